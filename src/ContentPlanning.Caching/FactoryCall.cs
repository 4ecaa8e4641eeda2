using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching;

/// <summary>
/// One GetOrSet call's factory: adapts FusionCache's factory context to <see cref="FactoryContext{T}"/> and remembers
/// whether it started and which envelope it produced, which is how the caller learns the value's provenance.
/// </summary>
internal sealed class FactoryCall<TState, T>(
    FusionTieredCache cache,
    string key,
    TState state,
    Func<FactoryContext<T>, TState, CancellationToken, Task<T>> factory,
    CacheEntryOptions options,
    IReadOnlyCollection<string>? tags)
{
    private volatile bool _started;
    private readonly CacheEntryOptions _options = options;
    private volatile CacheEntryOptions _effective = options;

    public bool Started => _started;

    public CacheEnvelope<T>? Produced { get; private set; }

    public FusionCacheEntryOptions EffectiveOptions => cache.Map(_effective).Full;

    public IEnumerable<string>? EffectiveTags { get; private set; } = tags;

    public async Task<CacheEnvelope<T>> RunAsync(FusionCacheFactoryExecutionContext<CacheEnvelope<T>> ctx, CancellationToken ct)
    {
        var stale = ctx.HasStaleValue ? ctx.StaleValue.Value : null;
        var envelope = await ProduceAsync(stale, ct).ConfigureAwait(false);
        // Charged by its approximate byte size, whatever the options say (Cache__MemorySizeLimit is a byte budget).
        ctx.Options.Size = cache.ApproximateSize(envelope);
        if (!ReferenceEquals(_effective, _options))
        {
            // The factory adapted its options (e.g. a short Duration for "not found"): apply them to this entry only.
            var adapted = ctx.Options;
            var wanted = EffectiveOptions;
            adapted.Duration = wanted.Duration;
            adapted.DistributedCacheDuration = wanted.DistributedCacheDuration;
            adapted.IsFailSafeEnabled = wanted.IsFailSafeEnabled;
            adapted.FailSafeMaxDuration = wanted.FailSafeMaxDuration;
            adapted.JitterMaxDuration = wanted.JitterMaxDuration;
            adapted.SkipDistributedCacheWrite = wanted.SkipDistributedCacheWrite;
        }
        if (EffectiveTags is { } extra && !ReferenceEquals(extra, tags)) ctx.Tags = [.. extra];
        return envelope;
    }

    public Task<CacheEnvelope<T>> RunForcedAsync(CancellationToken ct) => ProduceAsync(null, ct);

    private async Task<CacheEnvelope<T>> ProduceAsync(CacheEnvelope<T>? stale, CancellationToken ct)
    {
        _started = true;
        cache.CountFactoryExecution();
        var context = new FactoryContext<T>(key, _options, stale is not null, stale is null ? default! : stale.Value,
            stale is null ? null : new DateTimeOffset(stale.CachedAt, TimeSpan.Zero));
        var value = await factory(context, state, ct).ConfigureAwait(false);
        _effective = context.Options;
        if (context.Tags is { Count: > 0 } more) EffectiveTags = tags is null ? more : [.. tags, .. more];
        var envelope = cache.Wrap(value, _effective);
        Produced = envelope;
        cache.NoteWrite(key);
        return envelope;
    }
}
