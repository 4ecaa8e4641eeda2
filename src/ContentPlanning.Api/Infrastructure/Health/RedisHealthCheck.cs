using ContentPlanning.Caching;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContentPlanning.Api.Infrastructure.Health;

/// <summary>Redis is optional for serving: when it is down the service answers from L1 and PostgreSQL, so the state is "degraded", not "unhealthy".</summary>
internal sealed class RedisHealthCheck(ITieredCache cache, IConfiguration configuration) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(configuration.GetConnectionString("Redis")))
        {
            return Task.FromResult(HealthCheckResult.Healthy("not configured: L1 memory cache only, no backplane"));
        }

        var stats = cache.GetStatistics();
        var data = new Dictionary<string, object>
        {
            ["distributed_available"] = stats.DistributedAvailable,
            ["backplane_connected"] = stats.BackplaneConnected,
        };
        return Task.FromResult(stats.DistributedAvailable && stats.BackplaneConnected
            ? HealthCheckResult.Healthy("connected", data)
            : HealthCheckResult.Degraded("unreachable: serving from L1 memory and PostgreSQL; L1 coherence across nodes is suspended", data: data));
    }
}
