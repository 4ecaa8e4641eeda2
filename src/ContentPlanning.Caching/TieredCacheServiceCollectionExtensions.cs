using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion.Backplane;
using ZiggyCreatures.Caching.Fusion.Serialization;

namespace ContentPlanning.Caching;

public static class TieredCacheServiceCollectionExtensions
{
    /// <summary>
    /// Registers the tiered cache: options from section <c>Cache</c> (validated at start), Redis from
    /// <c>ConnectionStrings:Redis</c> (empty: L1-only), <see cref="ITieredCacheProvider"/> and the default <see cref="ITieredCache"/>.
    /// </summary>
    public static IServiceCollection AddTieredCache(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<TieredCacheOptions>().Bind(configuration.GetSection(TieredCacheOptions.SectionName));
        return services.AddTieredCacheCore(configuration.GetConnectionString("Redis"));
    }

    /// <summary>Registers the tiered cache with options set in code (tests, tools).</summary>
    public static IServiceCollection AddTieredCache(this IServiceCollection services, Action<TieredCacheOptions> configure,
        string? redisConnectionString = null)
    {
        services.AddOptions<TieredCacheOptions>().Configure(configure);
        return services.AddTieredCacheCore(redisConnectionString);
    }

    private static IServiceCollection AddTieredCacheCore(this IServiceCollection services, string? redisConnectionString)
    {
        services.AddLogging();
        services.AddOptions<TieredCacheOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TieredCacheOptions>, TieredCacheOptionsValidator>());
        services.TryAddSingleton(sp => new RedisConnection(redisConnectionString, sp.GetRequiredService<ILogger<RedisConnection>>()));
        // The two stand-ins for FusionCache packages missing here; each is replaced by changing its one line.
        services.TryAddSingleton<IFusionCacheSerializer>(sp =>
            new SystemTextJsonFusionCacheSerializer(sp.GetRequiredService<IOptions<TieredCacheOptions>>().Value.JsonSerializerOptions));
        services.TryAddTransient<IFusionCacheBackplane, RedisPubSubFusionCacheBackplane>();
        services.TryAddSingleton<TieredCacheProvider>();
        services.TryAddSingleton<ITieredCacheProvider>(sp => sp.GetRequiredService<TieredCacheProvider>());
        services.TryAddSingleton<ITieredCache>(sp =>
            sp.GetRequiredService<TieredCacheProvider>().GetCache(sp.GetRequiredService<IOptions<TieredCacheOptions>>().Value.Name));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, TieredCacheStartup>());
        return services;
    }
}

/// <summary>Connects Redis and creates the default cache when the host starts, and says so once if there is no Redis.</summary>
internal sealed class TieredCacheStartup(RedisConnection redis, ITieredCache cache, ILogger<TieredCacheStartup> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!redis.IsConfigured) Log.MemoryOnly(logger);
        // One connect attempt before serving (abortConnect=false: a Redis that is down costs one connect timeout at most).
        else await redis.GetMultiplexerAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        _ = cache.Name;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
