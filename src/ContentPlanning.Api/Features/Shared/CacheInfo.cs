using ContentPlanning.Caching;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>Where an answer came from, as the API reports it to clients (<c>cache_info</c>).</summary>
public sealed record CacheInfo(
    string Source,
    bool IsCached,
    bool IsStale,
    bool ForceRefresh,
    DateTimeOffset? CachedAt,
    DateTimeOffset Timestamp)
{
    /// <param name="factorySource">How a value produced by the factory is named (e.g. "database", "computed").</param>
    public static CacheInfo From<T>(CacheResult<T> result, bool forceRefresh, string factorySource, TimeProvider time) => new(
        result.Source switch
        {
            CacheSource.Memory => "memory",
            CacheSource.Distributed => "redis",
            _ => factorySource,
        },
        result.IsCached,
        result.IsStale,
        forceRefresh,
        result.HasValue ? result.CachedAt : null,
        time.GetUtcNow());
}
