using Microsoft.Extensions.Logging;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching;

/// <summary>
/// The <c>Cache</c> configuration section. The entry defaults (<c>Cache__Duration</c>, <c>Cache__FailSafeMaxDuration</c>,
/// <c>Cache__FactorySoftTimeout</c>, ...) carry FusionCache's own names and are bound straight onto
/// <see cref="DefaultEntryOptions"/>; the other settings are node-wide knobs FusionCache has under other names or not at all.
/// </summary>
public sealed class CacheSettings
{
    public const string SectionName = "Cache";

    /// <summary>FusionCache's CacheName: prefixes every Redis key and names the backplane channel.</summary>
    public string Name { get; set; } = "default";

    /// <summary>This node's name (the API reads it through its NodeIdentity): logs, job claims, the listener's application_name.</summary>
    public string NodeId { get; set; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";

    /// <summary>FusionCache's default entry options, bound from the same section (Duration, DistributedCacheDuration, ...).</summary>
    public FusionCacheEntryOptions DefaultEntryOptions { get; } = new()
    {
        Duration = TimeSpan.FromMinutes(5),
        IsFailSafeEnabled = true,
        FailSafeMaxDuration = TimeSpan.FromHours(2),
        FailSafeThrottleDuration = TimeSpan.FromSeconds(30),
        Size = 1,
    };

    /// <summary>
    /// Bound here as well as onto <see cref="DefaultEntryOptions"/> only to be checked: FusionCache quietly turns a value
    /// outside (0, 1) into "no eager refresh", which would hide a typo.
    /// </summary>
    public float? EagerRefreshThreshold { get; set; }

    /// <summary>
    /// How long a "not found" answer is kept, in every tier, fail-safe included: one policy for every cached read. A write
    /// that creates the thing invalidates it earlier through its tag.
    /// </summary>
    public TimeSpan NotFoundDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// L1 budget in bytes: every entry is charged its approximate (serialized) size. When full, MemoryCache compacts
    /// (lowest priority and least recently used first).
    /// </summary>
    public long MemorySizeLimit { get; set; } = 256L * 1024 * 1024;

    /// <summary>FusionCache's DistributedCacheCircuitBreakerDuration and BackplaneCircuitBreakerDuration.</summary>
    public TimeSpan CircuitBreakerDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>FusionCache's DistributedCacheSoftTimeout and DistributedCacheHardTimeout: a Redis that accepts connections but does not answer cannot hold callers up.</summary>
    public TimeSpan DistributedOperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>FusionCache's AllowBackgroundDistributedCacheOperations and AllowBackgroundBackplaneOperations.</summary>
    public bool BackgroundDistributedOperations { get; set; } = true;

    public bool BackplaneEnabled { get; set; } = true;

    /// <summary>FusionCache's AutoRecoveryMaxItems.</summary>
    public int MaxPendingReplayOperations { get; set; } = 10_000;

    /// <summary>Duration of FusionCache's tag and clear markers; at least the longest fail-safe lifetime.</summary>
    public TimeSpan MarkerRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary><c>Cache__DistributedLocker__Enabled</c>: cross-node stampede protection (README "Tiered cache").</summary>
    public DistributedLockerSettings DistributedLocker { get; set; } = new();

    /// <summary><c>Cache__LogLevel</c>: the least level FusionCache's own log lines are written at.</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Warning;

    public sealed class DistributedLockerSettings
    {
        public bool Enabled { get; set; } = true;

        /// <summary>How long a node waits for another node's factory before running its own.</summary>
        public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);
    }
}
