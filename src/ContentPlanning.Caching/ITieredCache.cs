namespace ContentPlanning.Caching;

/// <summary>
/// A named, tiered cache: L1 process memory, L2 Redis, a Redis pub/sub backplane that keeps every
/// node's L1 coherent, and fail-safe. Vocabulary and semantics follow FusionCache so a later swap is mechanical.
/// </summary>
public interface ITieredCache
{
    /// <summary>The cache name; it prefixes every key in Redis and names the backplane channel.</summary>
    string Name { get; }

    /// <summary>The entry defaults from configuration (<c>Cache__Duration</c>, ...): derive a call's options from these with <c>with</c>.</summary>
    CacheEntryOptions DefaultEntryOptions { get; }

    /// <summary>Returns the cached value or runs <paramref name="factory"/> once per key per node to produce it.</summary>
    ValueTask<CacheResult<T>> GetOrSetAsync<T>(
        string key,
        Func<FactoryContext<T>, CancellationToken, Task<T>> factory,
        CacheEntryOptions? options = null,
        IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default);

    /// <summary>The same as the other overload, passing <paramref name="state"/> so the factory needs no closure.</summary>
    ValueTask<CacheResult<T>> GetOrSetAsync<TState, T>(
        string key,
        TState state,
        Func<FactoryContext<T>, TState, CancellationToken, Task<T>> factory,
        CacheEntryOptions? options = null,
        IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default);

    /// <summary>Reads L1 then L2; never runs a factory. <see cref="CacheResult{T}.HasValue"/> is false on a miss.</summary>
    ValueTask<CacheResult<T>> TryGetAsync<T>(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, IReadOnlyCollection<string>? tags = null, CancellationToken cancellationToken = default);

    /// <summary>Removes the entry from every tier on every node.</summary>
    ValueTask RemoveAsync(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Logically expires the entry everywhere: the next read runs the factory, but the old value is kept for fail-safe.</summary>
    ValueTask ExpireAsync(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Removes every entry carrying <paramref name="tag"/> from every tier on every node.</summary>
    ValueTask RemoveByTagAsync(string tag, CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Removes every entry of this named cache from every tier on every node.</summary>
    ValueTask ClearAsync(CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Logically expires every entry of this named cache (fail-safe may still serve the old values while factories fail).
    /// With <see cref="CacheEntryOptions.SkipDistributedCache"/> and <see cref="CacheEntryOptions.SkipBackplane"/> it
    /// touches this node's L1 only.
    /// </summary>
    ValueTask ExpireAllAsync(CacheEntryOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Drops this node's L1 entries only (no L2, no backplane): for diagnostics and tests.</summary>
    void ClearMemory();

    /// <summary>A snapshot of this cache's counters and connection state on this node.</summary>
    CacheStatistics GetStatistics();
}

/// <summary>Resolves named caches; the default cache is also registered as <see cref="ITieredCache"/>.</summary>
public interface ITieredCacheProvider
{
    ITieredCache GetCache(string name);
}
