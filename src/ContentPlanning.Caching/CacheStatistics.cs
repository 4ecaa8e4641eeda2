namespace ContentPlanning.Caching;

/// <summary>Counters of one named cache on this node since start, readable in-process (the cache-stats endpoint).</summary>
public sealed record CacheStatistics
{
    public required string CacheName { get; init; }
    public required string NodeId { get; init; }
    public long MemoryEntries { get; init; }
    public long MemoryHits { get; init; }
    public long MemoryMisses { get; init; }
    public bool DistributedAvailable { get; init; }
    public long DistributedHits { get; init; }
    public long DistributedMisses { get; init; }
    public long DistributedErrors { get; init; }
    public bool BackplaneConnected { get; init; }
    public long BackplaneMessagesSent { get; init; }
    public long BackplaneMessagesReceived { get; init; }
    public long FactoryExecutions { get; init; }
    public long FactoryErrors { get; init; }
    public long FactoryTimeouts { get; init; }
    public long FailSafeActivations { get; init; }
    public long EagerRefreshes { get; init; }
    public long CircuitBreakerOpenings { get; init; }
}
