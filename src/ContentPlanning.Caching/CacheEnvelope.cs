namespace ContentPlanning.Caching;

/// <summary>
/// What this service stores in FusionCache: the value plus when it was produced and until when it is fresh.
/// FusionCache reports neither the tier nor fail-safe per call; the envelope lets a caller see that a value is being
/// served past its own freshness (so fail-safe served it) and, by reference, whether its own factory produced it.
/// </summary>
public sealed class CacheEnvelope<T>
{
    public required T Value { get; init; }

    /// <summary>UTC ticks when the factory produced the value.</summary>
    public long CachedAt { get; init; }

    /// <summary>UTC ticks until which the value is fresh (Duration plus the largest jitter).</summary>
    public long FreshUntil { get; init; }
}
