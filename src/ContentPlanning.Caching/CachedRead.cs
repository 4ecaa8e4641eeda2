using System.Text.Json;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching;

/// <summary>Where an answer came from, as this node knows it.</summary>
public enum CacheSource
{
    /// <summary>A fresh L1 hit.</summary>
    Memory,

    /// <summary>A value this node read from Redis (L2).</summary>
    Redis,

    /// <summary>A value a factory produced on this node: this call's, or a concurrent caller's it waited for.</summary>
    Factory,
}

/// <summary>One cached read's answer: the value (null: not found) and its provenance. A struct: an L1 hit allocates nothing for it.</summary>
public readonly record struct CachedAnswer<T>(T? Value, CacheSource Source, bool IsStale, DateTimeOffset CachedAt)
    where T : class
{
    /// <summary>True when a cache tier served the value rather than a factory on this node.</summary>
    public bool IsCached => Source != CacheSource.Factory;
}

/// <summary>
/// The one cached-read helper: FusionCache's GetOrSet plus what FusionCache does not report per call, where the answer
/// came from and whether it is stale, and one "not found" lifetime for every slice. See README "Tiered cache".
/// <list type="bullet">
/// <item>An L1-only TryGet first: a fresh hit is <see cref="CacheSource.Memory"/> (no closure, no GetOrSet).</item>
/// <item>Otherwise GetOrSet. The instance this call's factory produced is <see cref="CacheSource.Factory"/>; if this
/// call's factory ran and another instance came back, fail-safe or the soft timeout served an old value (stale); an
/// instance some factory produced in this process (a concurrent caller's: FusionCache let this call wait for it) is
/// <see cref="CacheSource.Factory"/>; an instance deserialized from Redis is <see cref="CacheSource.Redis"/>.</item>
/// <item>Stale is also true for any value past <see cref="Cached{T}.FreshUntil"/>: only fail-safe hands those out.</item>
/// </list>
/// A forced refresh is a GetOrSet that skips both reads, so concurrent forced refreshes of a key queue on FusionCache's
/// lock (and the distributed locker across nodes); a queued one takes the value a factory in this process produced
/// after it began, if there is one, instead of running its own: every forced answer reflects the writes committed
/// before its request began, and a burst costs at most two factory runs.
/// </summary>
public sealed class CachedRead(IFusionCache cache, IOptions<CacheSettings> settings, CacheCounters counters)
{
    private static readonly FusionCacheEntryOptions MemoryProbe = new()
    {
        SkipDistributedCacheRead = true,
        SkipDistributedCacheWrite = true,
        IsFailSafeEnabled = false,
        AllowStaleOnReadOnly = false,
    };

    // The serializer's settings: an entry is charged against Cache__MemorySizeLimit by the bytes L2 holds for it.
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { IncludeFields = true };

    private readonly TimeSpan _notFound = settings.Value.NotFoundDuration;
    private readonly CacheCounters _counters = counters;

    /// <summary>The cache itself, for invalidation (RemoveByTag, Remove, Expire).</summary>
    public IFusionCache Cache => cache;

    /// <summary>
    /// <paramref name="options"/> with the L2 write and the backplane message awaited instead of sent in the background:
    /// for a refresh made off the request path, so that when it returns every node can read the new value.
    /// </summary>
    public static FusionCacheEntryOptions AwaitingDistribution(FusionCacheEntryOptions options)
    {
        var awaited = options.Duplicate();
        awaited.AllowBackgroundDistributedCacheOperations = false;
        awaited.AllowBackgroundBackplaneOperations = false;
        return awaited;
    }

    /// <summary>The <c>Cache__*</c> entry defaults; duplicate them to vary a slice's lifetimes.</summary>
    public FusionCacheEntryOptions DefaultEntryOptions => cache.DefaultEntryOptions;

    /// <summary>
    /// Reads <paramref name="key"/> through L1, L2 and, on a miss, <paramref name="factory"/> (null means "not found" and
    /// is kept <c>Cache__NotFoundDuration</c>). <paramref name="tagsOf"/> adds tags known only from the value.
    /// </summary>
    public async ValueTask<CachedAnswer<T>> ReadAsync<TState, T>(
        string key,
        TState state,
        Func<TState, CancellationToken, Task<T?>> factory,
        bool forceRefresh,
        FusionCacheEntryOptions? options = null,
        IEnumerable<string>? tags = null,
        Func<T, string[]?>? tagsOf = null,
        CancellationToken cancellationToken = default)
        where T : class
    {
        options ??= cache.DefaultEntryOptions;
        Cached<T>? probed = null;
        if (!forceRefresh)
        {
            var probe = await cache.TryGetAsync<Cached<T>>(key, MemoryProbe, cancellationToken).ConfigureAwait(false);
            if (probe.HasValue && probe.Value is { } hit)
            {
                if (!EagerRefreshDue(hit, options))
                {
                    _counters.Answered(CacheSource.Memory);
                    return new CachedAnswer<T>(hit.Value, CacheSource.Memory, IsPastFreshness(hit), hit.CachedAt);
                }

                probed = hit;
            }
        }

        var run = new FactoryRun<TState, T>(this, key, state, factory, tagsOf, forceRefresh);
        if (forceRefresh)
        {
            options = options.Duplicate();
            options.SkipMemoryCacheRead = true;
            options.SkipDistributedCacheRead = true;
        }

        var result = await cache.GetOrSetAsync<Cached<T>>(key, run.RunAsync, default, options, tags, cancellationToken).ConfigureAwait(false);
        var (source, stale) = Provenance(result, run, probed);
        _counters.Answered(source);
        return new CachedAnswer<T>(result.Value, source, stale, result.CachedAt);
    }

    private static (CacheSource Source, bool Stale) Provenance<TState, T>(Cached<T> result, FactoryRun<TState, T> run, Cached<T>? probed)
        where T : class
    {
        if (ReferenceEquals(result, run.Produced)) return (CacheSource.Factory, false);
        var pastFreshness = IsPastFreshness(result);
        // This call's factory ran, yet another value came back: fail-safe or the soft timeout served an old one.
        if (run.Started) return (result.ProducedHere ? CacheSource.Memory : CacheSource.Redis, true);
        if (ReferenceEquals(result, probed)) return (CacheSource.Memory, pastFreshness);
        if (result.ProducedHere) return (pastFreshness ? CacheSource.Memory : CacheSource.Factory, pastFreshness);
        return (CacheSource.Redis, pastFreshness);
    }

    private static bool IsPastFreshness<T>(Cached<T> cached) where T : class => DateTimeOffset.UtcNow >= cached.FreshUntil;

    private static bool EagerRefreshDue<T>(Cached<T> cached, FusionCacheEntryOptions options) where T : class =>
        options.EagerRefreshThreshold is { } threshold
        && DateTimeOffset.UtcNow >= cached.CachedAt + (options.Duration * threshold);

    /// <summary>One GetOrSet's factory: remembers whether it started and which instance it produced.</summary>
    private sealed class FactoryRun<TState, T>(
        CachedRead owner, string key, TState state, Func<TState, CancellationToken, Task<T?>> factory, Func<T, string[]?>? tagsOf, bool forced)
        where T : class
    {
        private readonly DateTimeOffset _requestStart = DateTimeOffset.UtcNow;

        public volatile bool Started;

        public Cached<T>? Produced { get; private set; }

        public async Task<Cached<T>> RunAsync(FusionCacheFactoryExecutionContext<Cached<T>> context, CancellationToken cancellationToken)
        {
            Started = true;
            var options = context.Options;
            var recent = forced ? await owner.ProducedSinceAsync<T>(key, _requestStart, cancellationToken).ConfigureAwait(false) : null;
            Cached<T> produced;
            if (recent is not null)
            {
                // A forced refresh queued behind another one that began reading after this request began: its value
                // already reflects every write this request must see, and it is in L2 and announced already.
                options.SkipDistributedCacheWrite = true;
                options.SkipBackplaneNotifications = true;
                produced = recent;
            }
            else
            {
                owner._counters.FactoryRan();
                var cachedAt = DateTimeOffset.UtcNow;
                var value = await factory(state, cancellationToken).ConfigureAwait(false);
                var longest = value is null ? owner._notFound
                    : options.DistributedCacheDuration is { } l2 && l2 > options.Duration ? l2 : options.Duration;
                produced = new Cached<T> { Value = value, CachedAt = cachedAt, FreshUntil = cachedAt + longest + options.JitterMaxDuration, ProducedHere = true, Forced = forced };
            }

            if (produced.Value is null)
            {
                // One "not found" policy: kept NotFoundDuration in every tier, fail-safe included, so no Redis key outlives it.
                options.Duration = owner._notFound;
                options.DistributedCacheDuration = owner._notFound;
                options.FailSafeMaxDuration = owner._notFound;
                options.DistributedCacheFailSafeMaxDuration = owner._notFound;
            }
            else if (tagsOf?.Invoke(produced.Value) is { } more)
            {
                context.Tags = context.Tags is { Length: > 0 } given ? [.. given, .. more] : more;
            }

            options.Size = Math.Max(1, JsonSerializer.SerializeToUtf8Bytes(produced, Json).LongLength);
            Produced = produced;
            return produced;
        }
    }

    /// <summary>This process's L1 value of <paramref name="key"/>, if a forced refresh here produced it from a read begun at or after <paramref name="since"/>.</summary>
    private async ValueTask<Cached<T>?> ProducedSinceAsync<T>(string key, DateTimeOffset since, CancellationToken cancellationToken)
        where T : class
    {
        var current = await cache.TryGetAsync<Cached<T>>(key, MemoryProbe, cancellationToken).ConfigureAwait(false);
        return current.HasValue && current.Value is { ProducedHere: true, Forced: true } value && value.CachedAt >= since ? value : null;
    }
}
