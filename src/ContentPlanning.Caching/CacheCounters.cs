using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching;

/// <summary>
/// This node's answers by provenance (what FusionCache cannot count: its own hit and miss counters also count its
/// internal reads of tag and clear markers) plus a few of FusionCache's events, for the cache-stats endpoint. The SRE's
/// view is FusionCache's own meters (<c>ZiggyCreatures.Caching.Fusion*</c>), exported with the service's metrics.
/// </summary>
public sealed class CacheCounters
{
    private long _memory, _redis, _factory, _factoryRuns;
    private long _backplaneSent, _backplaneReceived, _failSafe, _distributedErrors;

    public long MemoryHits => Volatile.Read(ref _memory);

    /// <summary>Answers not served from L1.</summary>
    public long MemoryMisses => Volatile.Read(ref _redis) + Volatile.Read(ref _factory);

    public long RedisHits => Volatile.Read(ref _redis);

    /// <summary>Answers neither tier had (a factory on this node produced them).</summary>
    public long RedisMisses => Volatile.Read(ref _factory);

    public long FactoryExecutions => Volatile.Read(ref _factoryRuns);

    public long BackplaneMessagesSent => Volatile.Read(ref _backplaneSent);

    public long BackplaneMessagesReceived => Volatile.Read(ref _backplaneReceived);

    public long FailSafeActivations => Volatile.Read(ref _failSafe);

    /// <summary>Times FusionCache's L2 circuit breaker opened after a Redis error.</summary>
    public long DistributedErrors => Volatile.Read(ref _distributedErrors);

    internal void Answered(CacheSource source)
    {
        switch (source)
        {
            case CacheSource.Memory: Interlocked.Increment(ref _memory); break;
            case CacheSource.Redis: Interlocked.Increment(ref _redis); break;
            default: Interlocked.Increment(ref _factory); break;
        }
    }

    internal void FactoryRan() => Interlocked.Increment(ref _factoryRuns);

    internal void Subscribe(IFusionCache cache)
    {
        var events = cache.Events;
        events.Backplane.MessagePublished += (_, _) => Interlocked.Increment(ref _backplaneSent);
        events.Backplane.MessageReceived += (_, _) => Interlocked.Increment(ref _backplaneReceived);
        events.FailSafeActivate += (_, _) => Interlocked.Increment(ref _failSafe);
        events.Distributed.CircuitBreakerChange += (_, e) =>
        {
            if (!e.IsClosed) Interlocked.Increment(ref _distributedErrors);
        };
    }
}
