using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Database;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Health;

public static class HealthEndpoints
{
    public const string ReadyTag = "ready";
    private const string PostgresCheck = "postgres";

    public static IServiceCollection AddHealth(this IServiceCollection services)
    {
        services.AddSingleton<ConnectionPoolStatistics>();
        services.AddHealthChecks()
            .AddCheck<PostgresHealthCheck>(PostgresCheck, tags: [ReadyTag])
            .AddCheck<RedisHealthCheck>("redis", tags: [ReadyTag])
            .AddCheck<DatabaseListener.HealthCheck>("database_listener", tags: [ReadyTag]);
        return services;
    }

    /// <summary>
    /// <c>/health/live</c>: the process answers. <c>/health/ready</c> (also <c>/api/content-planning/health</c>, the integration
    /// plan's name): PostgreSQL reachable and migrated; Redis down is "degraded" (still 200). <c>/api/content-planning/database/health</c>:
    /// the PostgreSQL check alone, with the migration ledger and the connection pool. Unhealthy answers 503.
    /// </summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        var ready = new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync };
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync });
        app.MapHealthChecks("/health/ready", ready);
        // Probes stay open like /health/*, although they sit under the feature prefix: they hold no user data.
        app.MapHealthChecks("/api/content-planning/health", ready).AllowAnonymous();
        app.MapHealthChecks("/api/content-planning/database/health",
            new HealthCheckOptions { Predicate = c => c.Name == PostgresCheck, ResponseWriter = WriteAsync }).AllowAnonymous();
        return app;
    }

    private static Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = Name(report.Status),
            duration_ms = Math.Round(report.TotalDuration.TotalMilliseconds, 1),
            checks = report.Entries.ToDictionary(
                e => e.Key,
                e => new { status = Name(e.Value.Status), description = e.Value.Description, data = e.Value.Data }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }

    private static string Name(HealthStatus status) => status.ToString().ToLowerInvariant();

    private sealed class PostgresHealthCheck(DatabaseMigrator migrator, ConnectionPoolStatistics pool) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var data = new Dictionary<string, object> { ["migrations_known"] = migrator.LoadMigrations().Count };
            try
            {
                var pending = await migrator.PendingAsync(cancellationToken);
                data["migrations_pending"] = pending;
                AddPool(data);
                return pending.Count == 0
                    ? HealthCheckResult.Healthy("reachable, migrations applied", data)
                    : HealthCheckResult.Unhealthy($"pending migrations: {string.Join(", ", pending)}", data: data);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
            {
                AddPool(data);
                return HealthCheckResult.Unhealthy($"unreachable: {ex.GetType().Name}", data: data);
            }
        }

        private void AddPool(Dictionary<string, object> data)
        {
            var snapshot = pool.Read();
            data["pool"] = new { idle = snapshot.Idle, busy = snapshot.Busy, max = snapshot.Max, pending_requests = snapshot.PendingRequests };
        }
    }
}
