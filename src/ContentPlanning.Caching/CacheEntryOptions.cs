using Microsoft.Extensions.Caching.Memory;

namespace ContentPlanning.Caching;

/// <summary>
/// Per-entry options, named as in FusionCache. Immutable: derive a variant with <c>options with { Duration = ... }</c>,
/// so a factory changing its options never leaks into another call.
/// </summary>
public sealed record CacheEntryOptions
{
    /// <summary>Logical lifetime of the entry in L1 (and in L2 unless <see cref="DistributedCacheDuration"/> is set).</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Logical lifetime in L2; null means <see cref="Duration"/>.</summary>
    public TimeSpan? DistributedCacheDuration { get; init; }

    public bool IsFailSafeEnabled { get; init; } = true;

    /// <summary>How long past its logical expiry a value is kept to be served stale when the factory fails.</summary>
    public TimeSpan FailSafeMaxDuration { get; init; } = TimeSpan.FromHours(2);

    /// <summary>After a fail-safe activation, how long the stale value is served before the factory is tried again.</summary>
    public TimeSpan FailSafeThrottleDuration { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>When a stale value exists, the factory may run this long before the stale value is returned instead.</summary>
    public TimeSpan FactorySoftTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>The factory may run at most this long; then <see cref="FactoryTimeoutException"/> unless fail-safe applies.</summary>
    public TimeSpan FactoryHardTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>Whether a timed-out factory keeps running and updates the cache when it completes.</summary>
    public bool AllowTimedOutFactoryBackgroundCompletion { get; init; } = true;

    /// <summary>Fraction of Duration (0..1, exclusive) after which a hit triggers one background refresh; null disables it.</summary>
    public float? EagerRefreshThreshold { get; init; }

    /// <summary>A random extra lifetime up to this value, so entries written together do not expire together.</summary>
    public TimeSpan JitterMaxDuration { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// These options, kept at most <paramref name="lifetime"/> in every tier, fail-safe included: for short-lived answers such
    /// as "not found", whose Redis key must not outlive them.
    /// </summary>
    public CacheEntryOptions LivingAtMost(TimeSpan lifetime) =>
        this with { Duration = lifetime, DistributedCacheDuration = lifetime, FailSafeMaxDuration = lifetime };

    /// <summary>Units charged against the L1 size limit.</summary>
    public long Size { get; init; } = 1;

    public CacheItemPriority Priority { get; init; } = CacheItemPriority.Normal;

    public bool SkipMemoryCache { get; init; }

    public bool SkipDistributedCache { get; init; }

    public bool SkipBackplane { get; init; }

    /// <summary>When true, a GetOrSet ignores cached values (but still stores the factory's result): a forced refresh.</summary>
    public bool SkipCacheRead { get; init; }
}
