using System.Net;
using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Foundation;

public sealed class MetricsAndTraceSecretsTests
{
    private const string Password = "sup3r-secret-pw-7731";

    [Test]
    public async Task MetricsEndpointServesTheRequestDurationHistogramAndTheCacheCounters()
    {
        // A node of its own: each host has its own ASP.NET Core meter of the same name; when another test's node was disposed
        // the SDK (in our runs) dropped the shared instrument from the long-lived shared node's provider too: its series vanished.
        await using var node = new ApiFactory("node-metrics");
        using var client = node.CreateClient();
        using var strategies = await client.GetAsync("/api/content-planning/strategies?user_id=metrics-user");
        Assert.That(strategies.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        for (var i = 0; i < 2; i++)
        {
            // A user without strategies is cached as not found: a miss, then an L1 hit.
            using var read = await client.GetAsync("/api/content-planning/users/metrics-user/active-strategy");
            Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        // The server records the request's duration when the request ends, which may be just after the client read the answer.
        var scrape = await client.GetStringAsync("/metrics");
        for (var i = 0; i < 50 && !scrape.Contains("http_route=\"/api/content-planning/strategies\"", StringComparison.Ordinal); i++)
        {
            await Task.Delay(20);
            scrape = await client.GetStringAsync("/metrics");
        }

        Assert.That(scrape, Does.Contain("http_server_request_duration_seconds_bucket{"));
        Assert.That(scrape, Does.Contain("http_route=\"/api/content-planning/strategies\""));
        Assert.That(scrape, Does.Contain("fusioncache_cache_hit_total"));
        Assert.That(scrape, Does.Contain("fusioncache_cache_miss_total"));
    }

    [Test]
    public async Task MetricsPathAndSwitchAreConfigurable()
    {
        await using var moved = new ApiFactory("node-metrics-moved", new Dictionary<string, string?> { ["Metrics:Prometheus:Path"] = "/internal/scrape" });
        await using var off = new ApiFactory("node-metrics-off", new Dictionary<string, string?> { ["Metrics:Prometheus:Enabled"] = "false" });
        using var movedClient = moved.CreateClient();
        using var offClient = off.CreateClient();

        using var movedScrape = await movedClient.GetAsync("/internal/scrape");
        using var movedDefault = await movedClient.GetAsync("/metrics");
        using var offScrape = await offClient.GetAsync("/metrics");

        Assert.That(movedScrape.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(movedDefault.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(offScrape.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    [Test]
    public async Task ThePostgresPasswordNeverReachesASpan()
    {
        // The test cluster trusts local connections, so a password in the connection string is accepted and ignored;
        // Persist Security Info keeps it in the data source's connection string, which Npgsql puts on every span.
        var connectionString = TestEnvironment.PostgresConnectionString + $";Password={Password};Persist Security Info=true";
        await using var node = new ApiFactory("node-password", new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = connectionString });
        var spans = node.Services.GetRequiredService<RecentSpans>();
        using var client = node.CreateClient();

        using var response = await client.GetAsync("/api/content-planning/strategies?user_id=metrics-user");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        List<SpanRecord> database = [];
        for (var i = 0; i < 50 && database.Count == 0; i++)
        {
            database = spans.Snapshot().Where(s => s.Source == "Npgsql").ToList();
            if (database.Count == 0)
            {
                await Task.Delay(20);
            }
        }

        Assert.That(database, Is.Not.Empty, "Npgsql spans were recorded");
        Assert.That(database.Any(s => s.Attributes.ContainsKey("db.npgsql.data_source")), Is.True, "the data source tag is still there, only scrubbed");
        var everything = spans.Snapshot().SelectMany(s => s.Attributes.Values.Append(s.Name));
        Assert.That(everything.Where(v => v is not null && v.Contains(Password)), Is.Empty);
    }
}
