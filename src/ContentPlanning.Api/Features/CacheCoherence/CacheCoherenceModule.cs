using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Health;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Caching;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Features.CacheCoherence;

/// <summary>
/// Keeps every node's cached answers coherent with writes made outside the API: a listener per node on the version
/// trigger's NOTIFY channel, and its readiness check.
/// </summary>
internal sealed class CacheCoherenceModule : IServiceModule
{
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CacheCoherenceOptions>()
            .Bind(configuration.GetSection(CacheCoherenceOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<UserChangeListener>();
        services.AddHostedService(sp => sp.GetRequiredService<UserChangeListener>());
        if (configuration.GetSection(CacheCoherenceOptions.Section).GetValue(nameof(CacheCoherenceOptions.Enabled), true))
        {
            services.AddSingleton(sp => new CoherenceGate(BackplaneHeard(sp)));
            services.AddSingleton<IDatabaseNotificationHandler>(sp => sp.GetRequiredService<UserChangeListener>());
        }
        else
        {
            // Off: only API writes evict, and the node vouches for its cache as it always did.
            services.AddSingleton(sp =>
            {
                var gate = new CoherenceGate(BackplaneHeard(sp));
                gate.Resume();
                return gate;
            });
        }

        services.AddHealthChecks().AddCheck<UserChangeListener.HealthCheck>("cache_coherence", tags: [HealthEndpoints.ReadyTag]);
    }

    /// <summary>Whether this node hears the other nodes' backplane messages now; null when it has no backplane to hear.</summary>
    private static Func<bool>? BackplaneHeard(IServiceProvider services)
    {
        var redis = services.GetRequiredService<RedisConnection>();
        return redis.IsConfigured && services.GetRequiredService<IOptions<CacheSettings>>().Value.BackplaneEnabled ? () => redis.IsConnected : null;
    }
}
