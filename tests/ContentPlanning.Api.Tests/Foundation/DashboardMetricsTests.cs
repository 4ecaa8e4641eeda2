using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>Every series the Grafana dashboard (deploy/grafana/dashboards) queries must exist in the API's scrape output.</summary>
public sealed partial class DashboardMetricsTests
{
    // FusionCache reports a fail-safe activation only when a factory fails with a stale value at hand (covered by the cache
    // tests); its counter appears after the first one, so it is tolerated here too.
    private static readonly HashSet<string> NotYetEmitted =
        ["fusioncache_failsafe_activate_total"];

    private const string GenerateBody = "{\"user_id\": \"dashboard-user\", \"calendar_type\": \"weekly\"}";

    [Test]
    public async Task EveryMetricTheDashboardQueriesIsScraped()
    {
        await Testing.ResetStateAsync();
        // A node of its own: each host has its own ASP.NET Core meter of the same name; when another test's node was disposed
        // the SDK (in our runs) dropped the shared instrument from the long-lived shared node's provider too: its series vanished.
        await using var node = new ApiFactory("node-dashboard");
        using var client = node.CreateClient();
        // Activity first: requests (request-duration histogram) reading the database (Npgsql metrics) and the cache:
        // a miss in both tiers, an L1 hit, then with L1 emptied an L2 hit (a user without strategies is cached as not found).
        using var request = await client.GetAsync("/api/content-planning/strategies?user_id=dashboard-user");
        Assert.That(request.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        for (var i = 0; i < 3; i++)
        {
            if (i == 2)
            {
                node.Services.GetRequiredService<CacheMemory>().Clear();
            }

            using var read = await client.GetAsync("/api/content-planning/users/dashboard-user/active-strategy");
            Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        // A generation, for the generation-duration histogram.
        await Testing.ExecuteAsync("INSERT INTO content_strategies (user_id, name) VALUES ('dashboard-user', 'Plan')");
        using (var generated = await client.PostJsonAsync("/api/content-planning/calendar-generation/generate-calendar", GenerateBody))
        {
            Assert.That(generated.StatusCode, Is.EqualTo(HttpStatusCode.Created), await generated.Content.ReadAsStringAsync());
        }

        var queried = DashboardExpressions().SelectMany(e => MetricName().Matches(e).Select(m => m.Value)).ToHashSet();
        Assert.That(queried, Is.Not.Empty);

        // The request's duration is recorded when the request ends, possibly just after the client read the answer.
        HashSet<string> scraped = [];
        List<string> missing = [];
        for (var i = 0; i < 50; i++)
        {
            var scrape = await client.GetStringAsync("/metrics");
            scraped = scrape.Split('\n').Where(l => l.Length > 0 && l[0] != '#').Select(l => SeriesName().Match(l).Value).ToHashSet();
            missing = queried.Where(m => !scraped.Contains(m) && !NotYetEmitted.Contains(m)).ToList();
            if (missing.Count == 0)
            {
                break;
            }

            await Task.Delay(20);
        }

        Assert.That(missing, Is.Empty, "scraped: " + string.Join(", ", scraped.Order()));
    }

    private static List<string> DashboardExpressions()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "ContentPlanning.slnx")))
        {
            directory = directory.Parent;
        }

        Assert.That(directory, Is.Not.Null, "the repository root");
        var file = Path.Combine(directory!.FullName, "deploy", "grafana", "dashboards", "content-planning.json");
        using var json = JsonDocument.Parse(File.ReadAllText(file));
        return json.RootElement.GetProperty("panels").EnumerateArray()
            .SelectMany(p => p.GetProperty("targets").EnumerateArray())
            .Select(t => t.GetProperty("expr").GetString()!)
            .ToList();
    }

    [GeneratedRegex(@"\b[a-z][a-z0-9_]*_(?:total|bucket|count|sum)\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"^[a-zA-Z_:][a-zA-Z0-9_:]*")]
    private static partial Regex SeriesName();
}
