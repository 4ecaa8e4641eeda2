using ContentPlanning.Caching;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Health;

/// <summary>Redis is optional for serving: when it is down the service answers from L1 and PostgreSQL, so the state is "degraded", not "unhealthy".</summary>
internal sealed class RedisHealthCheck(RedisConnection redis, IOptions<CacheSettings> settings) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!redis.IsConfigured)
        {
            return Task.FromResult(HealthCheckResult.Healthy("not configured: L1 memory cache only, no backplane"));
        }

        // L2, backplane and locker share one multiplexer: its connection is theirs.
        var connected = redis.IsConnected;
        var data = new Dictionary<string, object>
        {
            ["distributed_available"] = connected,
            ["backplane_connected"] = connected && settings.Value.BackplaneEnabled,
        };
        return Task.FromResult(connected
            ? HealthCheckResult.Healthy("connected", data)
            : HealthCheckResult.Degraded("unreachable: serving from L1 memory and PostgreSQL; L1 coherence across nodes is suspended", data: data));
    }
}
