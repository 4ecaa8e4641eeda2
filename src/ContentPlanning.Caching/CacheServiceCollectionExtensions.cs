using Microsoft.Extensions.Caching.StackExchangeRedis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Instrumentation.StackExchangeRedis;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane.StackExchangeRedis;
using ZiggyCreatures.Caching.Fusion.Locking.Distributed.Redis;
using ZiggyCreatures.Caching.Fusion.Serialization.SystemTextJson;

namespace ContentPlanning.Caching;

public static class CacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers FusionCache from section <c>Cache</c> (validated at start) with Redis from <c>ConnectionStrings:Redis</c>
    /// (empty: L1-only), plus <see cref="CachedRead"/>.
    /// </summary>
    public static IServiceCollection AddTieredCache(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(CacheSettings.SectionName);
        var settings = new CacheSettings();
        section.Bind(settings);
        // The entry defaults keep FusionCache's own names (Cache__Duration, ...): bound onto its options type as they are.
        section.Bind(settings.DefaultEntryOptions);
        return services.AddTieredCache(settings, configuration.GetConnectionString("Redis"));
    }

    /// <summary>Registers the cache with settings made in code (tests, tools).</summary>
    public static IServiceCollection AddTieredCache(this IServiceCollection services, Action<CacheSettings> configure, string? redisConnectionString = null)
    {
        var settings = new CacheSettings();
        configure(settings);
        return services.AddTieredCache(settings, redisConnectionString);
    }

    private static IServiceCollection AddTieredCache(this IServiceCollection services, CacheSettings settings, string? redisConnectionString)
    {
        // Refused while registering, before any host starts: the start-up report names each bad Cache__* setting once.
        var result = new CacheSettingsValidator().Validate(Options.DefaultName, settings);
        if (result.Failed) throw new OptionsValidationException(Options.DefaultName, typeof(CacheSettings), result.Failures);

        // FusionCache logs every call at Information and below: Warning unless Cache__LogLevel says otherwise.
        services.AddLogging(logging => logging.AddFilter("ZiggyCreatures.Caching.Fusion", settings.LogLevel));
        services.AddSingleton(Options.Create(settings));
        services.AddSingleton(sp => new RedisConnection(redisConnectionString, sp.GetRequiredService<ILogger<RedisConnection>>()));
        // Built by the container (not handed to it) so that the container disposes it with the host.
        services.AddSingleton(_ => new CacheMemory(settings));
        services.AddSingleton<CacheCounters>();
        services.AddSingleton<CachedRead>();
        services.AddHostedService<CacheStartup>();

        var entry = settings.DefaultEntryOptions;
        entry.DistributedCacheSoftTimeout = settings.DistributedOperationTimeout;
        entry.DistributedCacheHardTimeout = settings.DistributedOperationTimeout;
        entry.AllowBackgroundDistributedCacheOperations = settings.BackgroundDistributedOperations;
        entry.AllowBackgroundBackplaneOperations = settings.BackgroundDistributedOperations;
        entry.DistributedLockTimeout = settings.DistributedLocker.Timeout;

        var builder = services.AddFusionCache(settings.Name)
            .WithOptions(options =>
            {
                options.DistributedCacheCircuitBreakerDuration = settings.CircuitBreakerDuration;
                options.BackplaneCircuitBreakerDuration = settings.CircuitBreakerDuration;
                options.EnableAutoRecovery = true;
                options.AutoRecoveryMaxItems = settings.MaxPendingReplayOperations;
                options.WaitForInitialBackplaneSubscribe = true;
                // Tag and clear markers are read on L1 misses of the entries they guard: bounded like every other L2 read.
                var markers = options.TagsDefaultEntryOptions;
                markers.Duration = settings.MarkerRetention;
                markers.Size = 1;
                markers.DistributedCacheSoftTimeout = settings.DistributedOperationTimeout;
                markers.DistributedCacheHardTimeout = settings.DistributedOperationTimeout;
                markers.AllowBackgroundDistributedCacheOperations = settings.BackgroundDistributedOperations;
                markers.AllowBackgroundBackplaneOperations = settings.BackgroundDistributedOperations;
            })
            .WithCacheKeyPrefixByCacheName()
            .WithDefaultEntryOptions(entry)
            .WithMemoryCache(sp => sp.GetRequiredService<CacheMemory>().Cache)
            .WithPostSetup((sp, cache) => sp.GetRequiredService<CacheCounters>().Subscribe(cache));
        // The named cache as IFusionCache (AddFusionCache registers only the default-named one directly). Built by the
        // builder itself, which keeps one instance: the same one IFusionCacheProvider.GetCache(name) hands out.
        services.AddSingleton(builder.Build);

        if (string.IsNullOrWhiteSpace(redisConnectionString))
        {
            return services;
        }

        // One multiplexer for L2, backplane and locker: each takes it through its ConnectionMultiplexerFactory.
        builder
            .WithSerializer(new FusionCacheSystemTextJsonSerializer(CachedRead.Json))
            .WithDistributedCache(sp => new RedisCache(new RedisCacheOptions { ConnectionMultiplexerFactory = Multiplexer(sp) }));
        if (settings.BackplaneEnabled)
        {
            builder.WithBackplane(sp => new RedisBackplane(
                Options.Create(new RedisBackplaneOptions { ConnectionMultiplexerFactory = Multiplexer(sp) }),
                sp.GetService<ILogger<RedisBackplane>>()));
        }

        if (settings.DistributedLocker.Enabled)
        {
            builder.WithDistributedLocker(sp => new RedisDistributedLocker(
                Options.Create(new RedisDistributedLockerOptions { ConnectionMultiplexerFactory = Multiplexer(sp) }),
                sp.GetService<ILogger<RedisDistributedLocker>>()));
        }

        return services;
    }

    private static Func<Task<IConnectionMultiplexer>> Multiplexer(IServiceProvider services) =>
        services.GetRequiredService<RedisConnection>().GetMultiplexerAsync;
}

/// <summary>
/// At host start: checks the settings, connects Redis (once, before serving), builds the cache (which waits for the
/// backplane's first SUBSCRIBE), and after every Redis reconnect expires this node's L1.
/// </summary>
internal sealed class CacheStartup(RedisConnection redis, IServiceProvider services, ILogger<CacheStartup> logger)
    : IHostedService
{
    // This node's L1 only: FusionCache's Clear with fail-safe kept, written to no L2 and announced to no other node.
    private static readonly FusionCacheEntryOptions LocalOnly = new() { SkipDistributedCacheWrite = true, SkipBackplaneNotifications = true, Size = 1 };

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConfigured)
        {
            Log.MemoryOnly(logger);
            _ = services.GetRequiredService<IFusionCache>();
            return;
        }

        // abortConnect=false: a Redis that is down costs one connect timeout at most.
        var multiplexer = await redis.GetMultiplexerAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        // Redis spans (AddRedisInstrumentation) for the shared multiplexer, under FusionCache's distributed-level spans.
        services.GetService<StackExchangeRedisInstrumentation>()?.AddConnection(multiplexer);
        var cache = services.GetRequiredService<IFusionCache>();
        // Backplane messages sent while this node's subscription was down are lost, and FusionCache replays only what a
        // node failed to SEND. So after a reconnect this node stops trusting its L1: a Clear that keeps fail-safe values
        // (an expire, not a removal), local only. Entries this node wrote during the outage stay in L1 for auto-recovery
        // to copy to L2; the next read of any key re-validates against L2 or the database.
        redis.Reconnected += () => _ = ExpireLocalAsync(cache);
        // Redis replicates asynchronously: after a failover the new primary may lack what the old one acknowledged last,
        // tag markers included, so an entry whose invalidation was lost would read as valid. FusionCache's Clear keeping
        // fail-safe values, in L2 and on every node: every entry written before it re-validates once (the database
        // snapshot tier makes that cheap). Every node that sees the switch does it; one Clear would do.
        redis.PrimaryChanged += (_, _) => _ = ExpireEverywhereAsync(cache);
    }

    private static async Task ExpireEverywhereAsync(IFusionCache cache)
    {
        try
        {
            await cache.ClearAsync(allowFailSafe: true).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping.
        }
    }

    private static async Task ExpireLocalAsync(IFusionCache cache)
    {
        try
        {
            await cache.ClearAsync(allowFailSafe: true, LocalOnly).ConfigureAwait(false);
        }
        catch (ObjectDisposedException)
        {
            // The host is stopping.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
