using System.Runtime.CompilerServices;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Logging;

namespace ContentPlanning.Caching;

/// <summary>
/// One named cache on this node. This file holds the public surface and the L1 hit path, which must stay tiny:
/// one memory lookup, one clock read, no lock, no Redis, no allocation. Everything else lives in the other parts.
/// </summary>
internal sealed partial class TieredCache : ITieredCache, IDisposable
{
    private readonly TieredCacheOptions _options;
    private readonly CacheEntryOptions _defaults;
    private readonly TimeProvider _time;
    private readonly MemoryCache _memory;
    private readonly KeyLocks _locks = new();
    private readonly ILogger _logger;
    private readonly bool _coarseHitClock;

    // A reconnect starts a new generation: L1 entries of an older one are expired (kept for fail-safe), because
    // backplane messages may have been missed meanwhile.
    private int _generation;

    private long _memoryHits, _memoryMisses, _distributedHits, _distributedMisses, _distributedErrors;
    private long _backplaneSent, _backplaneReceived, _factoryExecutions, _factoryErrors, _factoryTimeouts;
    private long _failSafeActivations, _eagerRefreshes, _circuitBreakerOpenings;

    public TieredCache(string name, TieredCacheOptions options, RedisConnection? redis, ILogger logger)
    {
        Name = name;
        _options = options;
        _defaults = options.ToEntryOptions();
        _time = options.TimeProvider;
        _logger = logger;
        _coarseHitClock = ReferenceEquals(_time, TimeProvider.System);
        _memory = new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = options.MemorySizeLimit,
            Clock = _coarseHitClock ? new CoarseSystemClock() : null,
        });
        _breaker = new CircuitBreaker(options.CircuitBreakerDuration, _time);
        _redis = redis is { IsConfigured: true } ? redis : null;
        _keys = new RedisKeys(name);
        if (_redis is not null) InitializeDistributed(_redis);
        CacheTelemetry.Register(this);
    }

    public string Name { get; }

    internal string NodeId => _options.NodeId;

    /// <summary>Live per-key lock objects (0 when no factory runs or waits).</summary>
    internal int LiveKeyLocks => _locks.Count;

    internal CacheEntryOptions DefaultEntryOptions => _defaults;

    public ValueTask<CacheResult<T>> GetOrSetAsync<T>(
        string key,
        Func<FactoryContext<T>, CancellationToken, Task<T>> factory,
        CacheEntryOptions? options = null,
        IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default) =>
        GetOrSetAsync<Func<FactoryContext<T>, CancellationToken, Task<T>>, T>(
            key, factory, static (ctx, f, ct) => f(ctx, ct), options, tags, cancellationToken);

    public ValueTask<CacheResult<T>> GetOrSetAsync<TState, T>(
        string key,
        TState state,
        Func<FactoryContext<T>, TState, CancellationToken, Task<T>> factory,
        CacheEntryOptions? options = null,
        IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        if (!opts.SkipMemoryCache && !opts.SkipCacheRead && _memory.TryGetValue(key, out var found) && found is MemoryEntry entry)
        {
            var now = HitClock();
            if (now < Volatile.Read(ref entry.LogicalExpiry) && entry.Generation == Volatile.Read(ref _generation) && TryCast(entry.Value, out T value))
            {
                if (now >= entry.EagerRefreshAt) StartEagerRefresh(key, state, factory, opts, tags, entry);
                Interlocked.Increment(ref _memoryHits);
                return new ValueTask<CacheResult<T>>(
                    new CacheResult<T>(value, true, CacheSource.Memory, entry.IsStale, new DateTimeOffset(entry.CreatedAt, TimeSpan.Zero)));
            }
        }
        return GetOrSetMissAsync(key, state, factory, opts, tags, cancellationToken);
    }

    public ValueTask<CacheResult<T>> TryGetAsync<T>(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        if (!opts.SkipMemoryCache && _memory.TryGetValue(key, out var found) && found is MemoryEntry entry)
        {
            var now = HitClock();
            if (now < Volatile.Read(ref entry.LogicalExpiry) && entry.Generation == Volatile.Read(ref _generation) && TryCast(entry.Value, out T value))
            {
                Interlocked.Increment(ref _memoryHits);
                return new ValueTask<CacheResult<T>>(
                    new CacheResult<T>(value, true, CacheSource.Memory, entry.IsStale, new DateTimeOffset(entry.CreatedAt, TimeSpan.Zero)));
            }
        }
        return TryGetMissAsync<T>(key, opts, cancellationToken);
    }

    private async ValueTask<CacheResult<T>> TryGetMissAsync<T>(string key, CacheEntryOptions opts, CancellationToken ct)
    {
        if (!opts.SkipMemoryCache) Interlocked.Increment(ref _memoryMisses);
        if (opts.SkipDistributedCache || !DistributedUsable) return CacheResult<T>.Miss;

        using var activity = CacheTelemetry.Start("try_get", Name);
        var (found, entry) = await ReadDistributedAsync<T>(key, ct);
        var now = _time.GetUtcNow().UtcTicks;
        if (!found || now >= entry.LogicalExpiry)
        {
            Interlocked.Increment(ref _distributedMisses);
            return CacheResult<T>.Miss;
        }
        Interlocked.Increment(ref _distributedHits);
        if (!opts.SkipMemoryCache) SetMemoryFromDistributed(key, entry, opts, now);
        return new CacheResult<T>(entry.Value, true, CacheSource.Distributed, false, new DateTimeOffset(entry.CreatedAt, TimeSpan.Zero));
    }

    public void ClearMemory()
    {
        _memory.Clear();
        _tagIndex.Clear();
    }

    public CacheStatistics GetStatistics() => new()
    {
        CacheName = Name,
        NodeId = _options.NodeId,
        MemoryEntries = _memory.Count,
        MemoryHits = Interlocked.Read(ref _memoryHits),
        MemoryMisses = Interlocked.Read(ref _memoryMisses),
        DistributedAvailable = _redis?.IsConnected == true && _breaker.IsClosed,
        DistributedHits = Interlocked.Read(ref _distributedHits),
        DistributedMisses = Interlocked.Read(ref _distributedMisses),
        DistributedErrors = Interlocked.Read(ref _distributedErrors),
        BackplaneConnected = _options.BackplaneEnabled && _subscribed && _redis?.IsConnected == true,
        BackplaneMessagesSent = Interlocked.Read(ref _backplaneSent),
        BackplaneMessagesReceived = Interlocked.Read(ref _backplaneReceived),
        FactoryExecutions = Interlocked.Read(ref _factoryExecutions),
        FactoryErrors = Interlocked.Read(ref _factoryErrors),
        FactoryTimeouts = Interlocked.Read(ref _factoryTimeouts),
        FailSafeActivations = Interlocked.Read(ref _failSafeActivations),
        EagerRefreshes = Interlocked.Read(ref _eagerRefreshes),
        CircuitBreakerOpenings = Interlocked.Read(ref _circuitBreakerOpenings),
    };

    public void Dispose()
    {
        CacheTelemetry.Unregister(this);
        DisposeDistributed();
        _memory.Dispose();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long HitClock() => _coarseHitClock ? CoarseClock.UtcNowTicks : _time.GetUtcNow().UtcTicks;

    private static bool TryCast<T>(object? stored, out T value)
    {
        if (stored is T typed)
        {
            value = typed;
            return true;
        }
        value = default!;
        return stored is null && default(T) is null;
    }
}
