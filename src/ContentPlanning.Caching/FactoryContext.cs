namespace ContentPlanning.Caching;

/// <summary>
/// Handed to a factory: the stale value, if one exists, and a copy of the entry's options that the factory may adapt
/// (for example a shorter Duration for an empty result) without affecting any other call.
/// </summary>
public sealed class FactoryContext<T>
{
    internal FactoryContext(string key, CacheEntryOptions options, bool hasStaleValue, T staleValue, DateTimeOffset? staleCachedAt)
    {
        Key = key;
        Options = options;
        HasStaleValue = hasStaleValue;
        StaleValue = staleValue;
        StaleCachedAt = staleCachedAt;
    }

    public string Key { get; }

    /// <summary>This call's private copy of the options; changes apply to the entry being produced only.</summary>
    public CacheEntryOptions Options { get; set; }

    public bool HasStaleValue { get; }

    public T StaleValue { get; }

    public DateTimeOffset? StaleCachedAt { get; }

    /// <summary>Additional tags for the entry being produced.</summary>
    public IReadOnlyCollection<string>? Tags { get; set; }
}
