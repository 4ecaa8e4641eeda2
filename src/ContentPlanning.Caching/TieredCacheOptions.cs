using System.Text.Json;
using Microsoft.Extensions.Caching.Memory;

namespace ContentPlanning.Caching;

/// <summary>
/// Settings of every named cache, bound from the <c>Cache</c> configuration section (<c>Cache__Duration</c> etc.).
/// The entry defaults are flat settings so that each one has a plain configuration name.
/// </summary>
public sealed class TieredCacheOptions
{
    public const string SectionName = "Cache";

    /// <summary>Name of the default cache, registered as <see cref="ITieredCache"/>.</summary>
    public string Name { get; set; } = "default";

    /// <summary>This node's id on the backplane; a node ignores its own messages.</summary>
    public string NodeId { get; set; } = $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..8]}";

    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(5);

    public TimeSpan? DistributedCacheDuration { get; set; }

    public bool IsFailSafeEnabled { get; set; } = true;

    public TimeSpan FailSafeMaxDuration { get; set; } = TimeSpan.FromHours(2);

    public TimeSpan FailSafeThrottleDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Null means no soft timeout.</summary>
    public TimeSpan? FactorySoftTimeout { get; set; }

    /// <summary>Null means no hard timeout.</summary>
    public TimeSpan? FactoryHardTimeout { get; set; }

    public bool AllowTimedOutFactoryBackgroundCompletion { get; set; } = true;

    public float? EagerRefreshThreshold { get; set; }

    public TimeSpan JitterMaxDuration { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// L1 budget of each named cache in bytes: every entry is charged its approximate (serialized) size. When full,
    /// MemoryCache compacts (drops entries, lowest priority and least recently used first) and refuses new ones meanwhile.
    /// </summary>
    public long MemorySizeLimit { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long L2 and the backplane are left alone after a Redis error.</summary>
    public TimeSpan CircuitBreakerDuration { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// An L2 read (or a write a caller waits for) slower than this counts as a Redis error (the caller goes on to the factory), so a Redis that
    /// accepts connections but does not answer cannot hold callers up.
    /// </summary>
    public TimeSpan DistributedOperationTimeout { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>When true, L2 writes and backplane publishes run in the background: callers never wait on Redis to write.</summary>
    public bool BackgroundDistributedOperations { get; set; } = true;

    public bool BackplaneEnabled { get; set; } = true;

    /// <summary>Bound of the queue of L2 writes and backplane messages kept during a Redis outage (one per key, newest wins).</summary>
    public int MaxPendingReplayOperations { get; set; } = 10_000;

    /// <summary>How long tag and clear markers live in Redis; keep it at least as long as the longest fail-safe lifetime.</summary>
    public TimeSpan MarkerRetention { get; set; } = TimeSpan.FromDays(1);

    /// <summary>Serializer settings for values in L2. Settable in code only.</summary>
    public JsonSerializerOptions JsonSerializerOptions { get; set; } = new(JsonSerializerDefaults.Web);

    internal CacheEntryOptions ToEntryOptions() => new()
    {
        Duration = Duration,
        DistributedCacheDuration = DistributedCacheDuration,
        IsFailSafeEnabled = IsFailSafeEnabled,
        FailSafeMaxDuration = FailSafeMaxDuration,
        FailSafeThrottleDuration = FailSafeThrottleDuration,
        FactorySoftTimeout = FactorySoftTimeout ?? Timeout.InfiniteTimeSpan,
        FactoryHardTimeout = FactoryHardTimeout ?? Timeout.InfiniteTimeSpan,
        AllowTimedOutFactoryBackgroundCompletion = AllowTimedOutFactoryBackgroundCompletion,
        EagerRefreshThreshold = EagerRefreshThreshold,
        JitterMaxDuration = JitterMaxDuration,
        Size = 1,
        Priority = CacheItemPriority.Normal,
    };
}
