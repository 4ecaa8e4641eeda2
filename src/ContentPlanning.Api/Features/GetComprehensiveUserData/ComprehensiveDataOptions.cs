using System.ComponentModel.DataAnnotations;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>Settings under <c>ComprehensiveData</c> (e.g. ComprehensiveData__SnapshotDuration=01:00:00).</summary>
public sealed class ComprehensiveDataOptions
{
    public const string Section = "ComprehensiveData";

    /// <summary>L1 lifetime.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MemoryDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>L2 (Redis) lifetime.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan DistributedDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Lifetime of a snapshot row in PostgreSQL.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan SnapshotDuration { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long a stale value may still be served when the database fails.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "30.00:00:00")]
    public TimeSpan FailSafeMaxDuration { get; set; } = TimeSpan.FromHours(2);

    /// <summary>
    /// When a stale value exists and a refresh takes longer than this (a database that hangs rather than refuses), the
    /// stale value is answered and the refresh completes in the background.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan FactorySoftTimeout { get; set; } = TimeSpan.FromSeconds(2);

    private FusionCacheEntryOptions? _entry;

    /// <summary>This section's lifetimes over the Cache__* defaults (throttle, hard timeout, eager refresh, jitter, ...); made once.</summary>
    internal FusionCacheEntryOptions EntryOptions(FusionCacheEntryOptions defaults)
    {
        if (_entry is { } made)
        {
            return made;
        }

        var entry = defaults.Duplicate();
        entry.Duration = MemoryDuration;
        entry.DistributedCacheDuration = DistributedDuration;
        entry.FailSafeMaxDuration = FailSafeMaxDuration;
        entry.FactorySoftTimeout = FactorySoftTimeout;
        return _entry = entry;
    }
}
