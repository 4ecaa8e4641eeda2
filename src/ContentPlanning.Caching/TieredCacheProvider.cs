using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Caching;

internal sealed class TieredCacheProvider(IOptions<TieredCacheOptions> options, RedisConnection redis, ILoggerFactory loggerFactory)
    : ITieredCacheProvider, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<TieredCache>> _caches = new(StringComparer.Ordinal);
    private readonly ILogger _logger = loggerFactory.CreateLogger("ContentPlanning.Caching.TieredCache");

    public ITieredCache GetCache(string name) => GetTieredCache(name);

    internal TieredCache GetTieredCache(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _caches.GetOrAdd(name, n => new Lazy<TieredCache>(() => new TieredCache(n, options.Value, redis, _logger))).Value;
    }

    public void Dispose()
    {
        foreach (var cache in _caches.Values)
        {
            if (cache.IsValueCreated) cache.Value.Dispose();
        }
    }
}
