using ContentPlanning.Caching;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// Where an answer came from (<c>cache_info</c>), one shape for every cached read (README "Tiered cache: cache_info"):
/// <c>source</c> is <c>memory</c> (a fresh L1 hit), <c>redis</c> (read from L2 by this node), or what the slice's factory
/// produced on this node (<c>database</c>, <c>computed</c>, <c>database_snapshot</c>), also when a concurrent caller's
/// factory produced it; <c>is_stale</c> is true exactly when fail-safe or the soft timeout served an old value;
/// <c>cached_at</c> is when the value's source read began. A slice adds its extras by deriving from it.
/// </summary>
public record CacheInfo(
    string Source,
    bool IsCached,
    bool IsStale,
    bool ForceRefresh,
    DateTimeOffset? CachedAt,
    DateTimeOffset Timestamp)
{
    /// <param name="factorySource">How a value produced by the slice's factory is named (e.g. "database", "computed").</param>
    public static CacheInfo From<T>(in CachedAnswer<T> answer, bool forceRefresh, string factorySource, TimeProvider time)
        where T : class =>
        new(SourceName(answer, factorySource), answer.IsCached, answer.IsStale, forceRefresh, answer.CachedAt, time.GetUtcNow());

    public static string SourceName<T>(in CachedAnswer<T> answer, string factorySource)
        where T : class => answer.Source switch
        {
            CacheSource.Memory => "memory",
            CacheSource.Redis => "redis",
            _ => factorySource,
        };
}
