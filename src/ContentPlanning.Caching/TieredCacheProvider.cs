using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane;
using ZiggyCreatures.Caching.Fusion.Serialization;

namespace ContentPlanning.Caching;

/// <summary>
/// Builds one FusionCache per cache name: L1 a size-limited MemoryCache of its own, L2 Microsoft's RedisCache on the
/// shared multiplexer with the registered <see cref="IFusionCacheSerializer"/>, and a registered
/// <see cref="IFusionCacheBackplane"/> (one instance per cache: it holds that cache's subscription).
/// </summary>
internal sealed class TieredCacheProvider(IOptions<TieredCacheOptions> options, RedisConnection redis, IServiceProvider services,
    ILoggerFactory loggerFactory) : ITieredCacheProvider, IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<FusionTieredCache>> _caches = new(StringComparer.Ordinal);

    public ITieredCache GetCache(string name) => GetTieredCache(name);

    internal FusionTieredCache GetTieredCache(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return _caches.GetOrAdd(name, n => new Lazy<FusionTieredCache>(() => Create(n))).Value;
    }

    private FusionTieredCache Create(string name)
    {
        var o = options.Value;
        var memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = o.MemorySizeLimit, TrackStatistics = true });
        var fusionOptions = new FusionCacheOptions
        {
            CacheName = name,
            // Every key and tag marker in Redis starts with the cache name, so two named caches never collide.
            CacheKeyPrefix = name + ":",
            DistributedCacheCircuitBreakerDuration = o.CircuitBreakerDuration,
            BackplaneCircuitBreakerDuration = o.CircuitBreakerDuration,
            EnableAutoRecovery = true,
            AutoRecoveryMaxItems = o.MaxPendingReplayOperations,
            WaitForInitialBackplaneSubscribe = true,
            DefaultEntryOptions = FusionTieredCache.ToFusion(o.ToEntryOptions(), o),
        };
        // Tag and clear markers are read on L1 misses of the entries they guard (the clear marker on every read until
        // it is in L1): bound their L2 reads like every other, or a hung Redis holds a read for SE.Redis's 5 s timeout.
        var markers = fusionOptions.TagsDefaultEntryOptions;
        markers.Duration = o.MarkerRetention;
        markers.DistributedCacheSoftTimeout = o.DistributedOperationTimeout;
        markers.DistributedCacheHardTimeout = o.DistributedOperationTimeout;
        markers.AllowBackgroundDistributedCacheOperations = o.BackgroundDistributedOperations;
        markers.AllowBackgroundBackplaneOperations = o.BackgroundDistributedOperations;
        var fusion = new FusionCache(Options.Create(fusionOptions), memory, loggerFactory.CreateLogger<FusionCache>());

        RedisPubSubFusionCacheBackplane? ours = null;
        if (redis.IsConfigured)
        {
            var distributed = new RedisCache(new RedisCacheOptions
            {
                ConnectionMultiplexerFactory = async () => await redis.GetMultiplexerAsync().ConfigureAwait(false),
            });
            fusion.SetupDistributedCache(distributed, services.GetRequiredService<IFusionCacheSerializer>());
            if (o.BackplaneEnabled)
            {
                var backplane = services.GetRequiredService<IFusionCacheBackplane>();
                ours = backplane as RedisPubSubFusionCacheBackplane;
                fusion.SetupBackplane(backplane);
            }
        }

        var cache = new FusionTieredCache(fusion, memory, o,
            distributedAvailable: () => redis.IsConnected,
            backplaneConnected: () => ours?.IsSubscribed ?? (redis.IsConfigured && o.BackplaneEnabled && redis.IsConnected),
            beforeRead: redis.IsConfigured ? redis.HandlePendingRestore : null);
        // FusionCache replays what this node failed to send, but cannot know what it failed to hear: see DropMemoryAfterReconnect.
        if (redis.IsConfigured) redis.SubscriptionRestored += cache.DropMemoryAfterReconnect;
        return cache;
    }

    public void Dispose()
    {
        foreach (var cache in _caches.Values)
        {
            if (cache.IsValueCreated) cache.Value.Dispose();
        }
    }
}
