namespace ContentPlanning.Caching;

/// <summary>An L1 entry. Times are UTC ticks of the cache's TimeProvider.</summary>
internal sealed class MemoryEntry
{
    public required object? Value { get; init; }

    /// <summary>When the value was produced (reported to callers as CachedAt).</summary>
    public required long CreatedAt { get; init; }

    /// <summary>The cache's memory generation when this entry was stored; a reconnect starts a new generation.</summary>
    public required int Generation { get; init; }

    public long LogicalExpiry;

    public required long FailSafeExpiry { get; init; }

    public required string[]? Tags { get; init; }

    /// <summary>long.MaxValue when eager refresh is off.</summary>
    public required long EagerRefreshAt { get; init; }

    /// <summary>A value served by fail-safe and kept for the throttle duration: hits report it as stale.</summary>
    public required bool IsStale { get; init; }

    public int EagerRefreshStarted;

    public bool HasTag(string tag) => Tags is not null && Array.IndexOf(Tags, tag) >= 0;
}
