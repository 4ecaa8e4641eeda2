using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching;

/// <summary>
/// One named cache: a thin layer over <see cref="IFusionCache"/> (which does L1, L2, backplane, fail-safe, timeouts,
/// tags, eager refresh, auto-recovery) that adds what FusionCache does not report per call: where the value came from
/// and whether it is stale. See <see cref="GetOrSetAsync{TState, T}"/> for how.
/// </summary>
internal sealed class FusionTieredCache : ITieredCache, IDisposable
{
    private readonly IFusionCache _fusion;
    private readonly MemoryCache _memory;
    private readonly TimeProvider _time;
    private readonly CacheEntryOptions _defaults;
    private readonly Func<bool> _distributedAvailable;
    private readonly Func<bool> _backplaneConnected;
    private readonly ConditionalWeakTable<CacheEntryOptions, MappedOptions> _mapped = new();
    private readonly TimeSpan _distributedTimeout;
    private readonly bool _backgroundDistributed;
    private readonly bool _backplaneEnabled;
    private readonly JsonSerializerOptions _json;
    private readonly Action? _beforeRead;

    // L1 keys (FusionCache's: name prefix + key) this node wrote while Redis was unreachable: FusionCache's
    // auto-recovery copies them from L1 to L2 after the reconnect, so the reconnect must not drop them from L1.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _writtenDuringOutage = new(StringComparer.Ordinal);

    private long _memoryHits, _memoryMisses, _distributedHits, _distributedMisses, _distributedErrors;
    private long _backplaneSent, _backplaneReceived, _factoryExecutions, _factoryErrors, _factoryTimeouts;
    private long _failSafeActivations, _eagerRefreshes, _circuitBreakerOpenings;

    public FusionTieredCache(IFusionCache fusion, MemoryCache memory, TieredCacheOptions options, Func<bool> distributedAvailable,
        Func<bool> backplaneConnected, Action? beforeRead = null)
    {
        _beforeRead = beforeRead;
        _fusion = fusion;
        _memory = memory;
        // FusionCache keeps its own clock (the system one): the envelope stamps must agree with it.
        _time = TimeProvider.System;
        _defaults = options.ToEntryOptions();
        _distributedAvailable = distributedAvailable;
        _backplaneConnected = backplaneConnected;
        _distributedTimeout = options.DistributedOperationTimeout;
        _backgroundDistributed = options.BackgroundDistributedOperations;
        _backplaneEnabled = options.BackplaneEnabled;
        NodeId = options.NodeId;
        _json = options.JsonSerializerOptions;
        Subscribe(fusion);
    }

    public string Name => _fusion.CacheName;

    internal string NodeId { get; }

    internal IFusionCache Fusion => _fusion;

    /// <summary>Bytes charged against the L1 budget right now.</summary>
    internal long MemoryBytes => _memory.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

    internal bool IsBackplaneSubscribed => _backplaneConnected();

    public CacheEntryOptions DefaultEntryOptions => _defaults;

    public ValueTask<CacheResult<T>> GetOrSetAsync<T>(
        string key,
        Func<FactoryContext<T>, CancellationToken, Task<T>> factory,
        CacheEntryOptions? options = null,
        IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default) =>
        GetOrSetAsync<Func<FactoryContext<T>, CancellationToken, Task<T>>, T>(
            key, factory, static (ctx, f, ct) => f(ctx, ct), options, tags, cancellationToken);

    /// <summary>
    /// Provenance: (1) an L1-only TryGet first; a hit is "memory" (unless eager refresh is due: then the full GetOrSet
    /// runs so FusionCache can start it). (2) Otherwise GetOrSet with a per-call factory object: if the envelope
    /// returned is the very object this call's factory produced, the source is the factory; if this call's factory ran
    /// but another value came back, fail-safe or the soft timeout served it (stale); otherwise L2 had it. (3) Stale is
    /// also true whenever the envelope is past its own freshness: FusionCache only hands those out through fail-safe.
    /// </summary>
    public async ValueTask<CacheResult<T>> GetOrSetAsync<TState, T>(
        string key,
        TState state,
        Func<FactoryContext<T>, TState, CancellationToken, Task<T>> factory,
        CacheEntryOptions? options = null,
        IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        _beforeRead?.Invoke();
        var opts = options ?? _defaults;
        var mapped = Map(opts);
        if (!opts.SkipMemoryCache && !opts.SkipCacheRead)
        {
            var probe = await _fusion.TryGetAsync<CacheEnvelope<T>>(key, mapped.MemoryOnly, cancellationToken).ConfigureAwait(false);
            if (probe.HasValue && probe.Value is { } hit && !EagerRefreshDue(hit, opts))
            {
                Interlocked.Increment(ref _memoryHits);
                return Result(hit, CacheSource.Memory, forcedStale: false);
            }
            Interlocked.Increment(ref _memoryMisses);
        }

        var call = new FactoryCall<TState, T>(this, key, state, factory, opts, tags);
        CacheEnvelope<T> envelope;
        try
        {
            if (opts.SkipCacheRead)
            {
                // A forced refresh: run the factory, store and publish its value; FusionCache has no "skip read" on GetOrSet.
                envelope = await call.RunForcedAsync(cancellationToken).ConfigureAwait(false);
                var forced = call.EffectiveOptions.Duplicate();
                forced.Size = ApproximateSize(envelope);
                await _fusion.SetAsync(key, envelope, forced, call.EffectiveTags, cancellationToken).ConfigureAwait(false);
                return Result(envelope, CacheSource.Factory, forcedStale: false);
            }
            envelope = await _fusion.GetOrSetAsync<CacheEnvelope<T>>(key, call.RunAsync, default, mapped.Full, tags, cancellationToken)
                .ConfigureAwait(false);
        }
        catch (SyntheticTimeoutException ex)
        {
            throw new FactoryTimeoutException($"The cache factory for key {key} timed out.", ex);
        }

        if (ReferenceEquals(envelope, call.Produced))
        {
            Interlocked.Increment(ref _distributedMisses);
            return Result(envelope, CacheSource.Factory, forcedStale: false);
        }
        Interlocked.Increment(ref _distributedHits);
        return Result(envelope, CacheSource.Distributed, forcedStale: call.Started);
    }

    public async ValueTask<CacheResult<T>> TryGetAsync<T>(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        _beforeRead?.Invoke();
        var mapped = Map(options ?? _defaults);
        if (!(options ?? _defaults).SkipMemoryCache)
        {
            var probe = await _fusion.TryGetAsync<CacheEnvelope<T>>(key, mapped.MemoryOnly, cancellationToken).ConfigureAwait(false);
            if (probe.HasValue && probe.Value is { } hit)
            {
                Interlocked.Increment(ref _memoryHits);
                return Result(hit, CacheSource.Memory, forcedStale: false);
            }
            Interlocked.Increment(ref _memoryMisses);
        }
        var found = await _fusion.TryGetAsync<CacheEnvelope<T>>(key, mapped.Full, cancellationToken).ConfigureAwait(false);
        if (found.HasValue && found.Value is { } value)
        {
            Interlocked.Increment(ref _distributedHits);
            return Result(value, CacheSource.Distributed, forcedStale: false);
        }
        Interlocked.Increment(ref _distributedMisses);
        return CacheResult<T>.Miss;
    }

    public ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        var envelope = Wrap(value, opts);
        NoteWrite(key);
        var fusionOptions = Map(opts).Full.Duplicate();
        fusionOptions.Size = ApproximateSize(envelope);
        return _fusion.SetAsync(key, envelope, fusionOptions, tags, cancellationToken);
    }

    public ValueTask RemoveAsync(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default) =>
        _fusion.RemoveAsync(key, Map(options ?? _defaults).Full, cancellationToken);

    public ValueTask ExpireAsync(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default) =>
        _fusion.ExpireAsync(key, Map(options ?? _defaults).Full, cancellationToken);

    public ValueTask RemoveByTagAsync(string tag, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        NoteWrite(TagMarkerPrefix + tag);
        return _fusion.RemoveByTagAsync(tag, Map(options ?? _defaults).Full, cancellationToken);
    }

    public ValueTask ClearAsync(CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        NoteWrite(TagMarkerPrefix + "!");
        return _fusion.ClearAsync(allowFailSafe: false, Map(options ?? _defaults).Full, cancellationToken);
    }

    public ValueTask ExpireAllAsync(CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        NoteWrite(TagMarkerPrefix + "*");
        return _fusion.ClearAsync(allowFailSafe: true, Map(options ?? _defaults).Full, cancellationToken);
    }

    /// <summary>FusionCache's tag markers ("!" is the clear marker), as keys under the cache prefix.</summary>
    private const string TagMarkerPrefix = "__fc:t:";

    internal void NoteWrite(string key)
    {
        if (!_distributedAvailable()) _writtenDuringOutage.TryAdd(Name + ":" + key, 0);
    }

    /// <summary>
    /// After the pub/sub socket was down, messages from other nodes may have been missed: drop every L1 entry (and tag
    /// marker) except what this node wrote meanwhile, which auto-recovery still has to copy to L2. L2 keeps every
    /// value, fail-safe included, so the next read re-validates against it.
    /// </summary>
    internal void DropMemoryAfterReconnect()
    {
        var keep = _writtenDuringOutage.Keys.ToHashSet(StringComparer.Ordinal);
        _writtenDuringOutage.Clear();
        foreach (var key in _memory.Keys)
        {
            if (key is string k && keep.Contains(k)) continue;
            _memory.Remove(key);
        }
    }

    public void ClearMemory() => _memory.Clear();

    public CacheStatistics GetStatistics() => new()
    {
        CacheName = Name,
        NodeId = NodeId,
        MemoryEntries = _memory.Count,
        MemoryHits = Volatile.Read(ref _memoryHits),
        MemoryMisses = Volatile.Read(ref _memoryMisses),
        DistributedAvailable = _distributedAvailable(),
        DistributedHits = Volatile.Read(ref _distributedHits),
        DistributedMisses = Volatile.Read(ref _distributedMisses),
        DistributedErrors = Volatile.Read(ref _distributedErrors),
        BackplaneConnected = _backplaneConnected(),
        BackplaneMessagesSent = Volatile.Read(ref _backplaneSent),
        BackplaneMessagesReceived = Volatile.Read(ref _backplaneReceived),
        FactoryExecutions = Volatile.Read(ref _factoryExecutions),
        FactoryErrors = Volatile.Read(ref _factoryErrors),
        FactoryTimeouts = Volatile.Read(ref _factoryTimeouts),
        FailSafeActivations = Volatile.Read(ref _failSafeActivations),
        EagerRefreshes = Volatile.Read(ref _eagerRefreshes),
        CircuitBreakerOpenings = Volatile.Read(ref _circuitBreakerOpenings),
    };

    public void Dispose() => _fusion.Dispose();

    private CacheResult<T> Result<T>(CacheEnvelope<T> envelope, CacheSource source, bool forcedStale)
    {
        var stale = forcedStale || _time.GetUtcNow().UtcTicks >= envelope.FreshUntil;
        return new CacheResult<T>(envelope.Value, true, source, stale, new DateTimeOffset(envelope.CachedAt, TimeSpan.Zero));
    }

    private bool EagerRefreshDue<T>(CacheEnvelope<T> envelope, CacheEntryOptions opts) =>
        opts.EagerRefreshThreshold is { } threshold
        && _time.GetUtcNow().UtcTicks >= envelope.CachedAt + (long)(opts.Duration.Ticks * threshold);

    internal CacheEnvelope<T> Wrap<T>(T value, CacheEntryOptions opts)
    {
        var now = _time.GetUtcNow().UtcTicks;
        return new CacheEnvelope<T> { Value = value, CachedAt = now, FreshUntil = now + opts.Duration.Ticks + opts.JitterMaxDuration.Ticks };
    }

    /// <summary>
    /// What an entry is charged against <c>Cache__MemorySizeLimit</c> (bytes): its UTF-8 JSON length, the same bytes L2
    /// holds. One serialization per factory run or Set, never on a hit; the heap cost of the object graph is a small
    /// multiple of it (README). FusionCache keeps the size in the L2 entry's metadata, so an L1 copy made from L2 is
    /// charged the same.
    /// </summary>
    internal long ApproximateSize<T>(CacheEnvelope<T> envelope) => Math.Max(1, JsonSerializer.SerializeToUtf8Bytes(envelope, _json).LongLength);

    internal MappedOptions Map(CacheEntryOptions opts) => _mapped.GetValue(opts, o => new MappedOptions(ToFusion(o)));

    /// <summary>Our per-entry options in FusionCache's terms (same names, same meaning), plus the node-wide Redis settings.</summary>
    internal FusionCacheEntryOptions ToFusion(CacheEntryOptions o) => ToFusion(o, _distributedTimeout, _backgroundDistributed, _backplaneEnabled);

    internal static FusionCacheEntryOptions ToFusion(CacheEntryOptions o, TieredCacheOptions node) =>
        ToFusion(o, node.DistributedOperationTimeout, node.BackgroundDistributedOperations, node.BackplaneEnabled);

    private static FusionCacheEntryOptions ToFusion(CacheEntryOptions o, TimeSpan distributedTimeout, bool background, bool backplaneEnabled) => new()
    {
        Duration = o.Duration,
        DistributedCacheDuration = o.DistributedCacheDuration,
        IsFailSafeEnabled = o.IsFailSafeEnabled,
        FailSafeMaxDuration = o.FailSafeMaxDuration,
        FailSafeThrottleDuration = o.FailSafeThrottleDuration,
        FactorySoftTimeout = o.FactorySoftTimeout,
        FactoryHardTimeout = o.FactoryHardTimeout,
        AllowTimedOutFactoryBackgroundCompletion = o.AllowTimedOutFactoryBackgroundCompletion,
        EagerRefreshThreshold = o.EagerRefreshThreshold,
        JitterMaxDuration = o.JitterMaxDuration,
        Size = o.Size,
        Priority = o.Priority,
        SkipMemoryCacheRead = o.SkipMemoryCache,
        SkipMemoryCacheWrite = o.SkipMemoryCache,
        SkipDistributedCacheRead = o.SkipDistributedCache,
        SkipDistributedCacheWrite = o.SkipDistributedCache,
        SkipBackplaneNotifications = o.SkipBackplane || !backplaneEnabled,
        DistributedCacheSoftTimeout = distributedTimeout,
        DistributedCacheHardTimeout = distributedTimeout,
        AllowBackgroundDistributedCacheOperations = background,
        AllowBackgroundBackplaneOperations = background,
    };

    private void Subscribe(IFusionCache fusion)
    {
        var events = fusion.Events;
        // Hits and misses are counted per caller's read above, not from FusionCache's events: those also count its
        // internal reads (tag and clear markers, the L1 probe), which would make one user read look like five.
        events.Distributed.CircuitBreakerChange += (_, e) =>
        {
            if (e.IsClosed) return;
            Interlocked.Increment(ref _circuitBreakerOpenings);
            Interlocked.Increment(ref _distributedErrors);
        };
        events.Backplane.MessagePublished += (_, _) => Interlocked.Increment(ref _backplaneSent);
        events.Backplane.MessageReceived += (_, _) => Interlocked.Increment(ref _backplaneReceived);
        events.FactoryError += (_, _) => Interlocked.Increment(ref _factoryErrors);
        events.FactorySyntheticTimeout += (_, _) => Interlocked.Increment(ref _factoryTimeouts);
        events.FailSafeActivate += (_, _) => Interlocked.Increment(ref _failSafeActivations);
        events.EagerRefresh += (_, _) => Interlocked.Increment(ref _eagerRefreshes);
    }

    internal void CountFactoryExecution() => Interlocked.Increment(ref _factoryExecutions);

    internal sealed class MappedOptions(FusionCacheEntryOptions full)
    {
        public FusionCacheEntryOptions Full { get; } = full;

        /// <summary>The L1 probe: never L2, never fail-safe (a stale L1 value must go through GetOrSet).</summary>
        public FusionCacheEntryOptions MemoryOnly { get; } = Probe(full);

        private static FusionCacheEntryOptions Probe(FusionCacheEntryOptions full)
        {
            var probe = full.Duplicate();
            probe.SkipDistributedCacheRead = true;
            probe.IsFailSafeEnabled = false;
            probe.AllowStaleOnReadOnly = false;
            return probe;
        }
    }
}
