namespace ContentPlanning.Caching;

/// <summary>Where a value handed to a caller came from.</summary>
public enum CacheSource
{
    None = 0,
    Memory,
    Distributed,
    Factory,
}

/// <summary>A value together with its provenance. A struct, so an L1 hit allocates nothing.</summary>
public readonly record struct CacheResult<T>(
    T Value,
    bool HasValue,
    CacheSource Source,
    bool IsStale,
    DateTimeOffset CachedAt)
{
    public static CacheResult<T> Miss => default;

    /// <summary>True when the value was served by a cache tier rather than produced by the factory in this call.</summary>
    public bool IsCached => HasValue && Source is CacheSource.Memory or CacheSource.Distributed;
}
