using ContentPlanning.Api.Infrastructure.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

/// <summary>Database round trips of one request, counted from its Npgsql command spans (connection opens are not commands).</summary>
public sealed class RoundTripTests : DatabaseTest
{
    [TestCase(1)]
    [TestCase(30)]
    public async Task AnAssemblyReadsEverySectionInOneCommandHoweverManyRowsThereAre(int rowsPerSection)
    {
        using var client = Testing.CreateClient();
        await SeedUserAsync("trips", rowsPerSection);

        var commands = await DatabaseCommandsOfAsync(client, Url("trips"), "computed");

        var sourceReads = commands.Where(c => Statement(c).Contains("content_gap_analyses", StringComparison.Ordinal)).ToList();
        Assert.That(sourceReads, Has.Count.EqualTo(1), "one batched read of the source tables");
        Assert.That(Statement(sourceReads[0]), Does.Contain("user_profiles").And.Contain("content_strategies")
            .And.Contain("content_recommendations").And.Contain("content_analytics"));
        Assert.That(Statement(sourceReads[0]), Does.Contain("comprehensive_user_data_cache").And.Contain("user_data_versions"),
            "the snapshot check rides in the same batch");
        // The batched read (snapshot check and every section), then the snapshot upsert: two round trips.
        Assert.That(commands, Has.Count.EqualTo(2), string.Join("\n---\n", commands.Select(Statement)));
    }

    [Test]
    public async Task ASnapshotHitIsOneRoundTrip()
    {
        using var client = Testing.CreateClient();
        await SeedUserAsync("snapshot-trips", 5);
        await GetAsync(client, "snapshot-trips");
        await Testing.Cache.ClearAsync(allowFailSafe: false);

        var commands = await DatabaseCommandsOfAsync(client, Url("snapshot-trips"), "database_snapshot");

        Assert.That(commands, Has.Count.EqualTo(1), string.Join("\n---\n", commands.Select(Statement)));
        Assert.That(Statement(commands[0]), Does.Contain("comprehensive_user_data_cache").And.Contain("user_data_versions"));
    }

    [Test]
    public async Task AMemoryHitDoesNotTouchTheDatabase()
    {
        using var client = Testing.CreateClient();
        await SeedUserAsync("memory-trips", 1);
        await GetAsync(client, "memory-trips");

        var commands = await DatabaseCommandsOfAsync(client, Url("memory-trips"), "memory");

        Assert.That(commands, Is.Empty);
    }

    private static async Task SeedUserAsync(string userId, int rowsPerSection)
    {
        await InsertProfileAsync(userId);
        await InsertStrategyAsync(userId, "Main", active: true);
        for (var i = 0; i < rowsPerSection; i++)
        {
            await InsertGapAnalysisAsync(userId, $"""["gap {i}"]""", daysAgo: i);
            await InsertRecommendationAsync(userId, $"Recommendation {i}", i % 2 == 0 ? "high" : "low");
            await InsertAnalyticsAsync(userId, $"platform-{i % 7}");
        }
    }

    private static async Task<List<SpanRecord>> DatabaseCommandsOfAsync(HttpClient client, string url, string expectedSource)
    {
        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();
        var sent = DateTimeOffset.UtcNow;
        var answer = await ReadAsync(client, url);
        Assert.That(Source(answer), Is.EqualTo(expectedSource));

        // The server span ends just after the response is written.
        SpanRecord? server = null;
        for (var i = 0; i < 100 && server is null; i++)
        {
            server = spans.Snapshot().LastOrDefault(s => s.Source == "Microsoft.AspNetCore" && s.StartTime >= sent.AddMilliseconds(-5)
                                                        && s.Attributes.GetValueOrDefault("url.path") == UserDataPath);
            if (server is null)
            {
                await Task.Delay(20);
            }
        }

        Assert.That(server, Is.Not.Null, "the request's server span");
        return spans.Snapshot()
            .Where(s => s.Source == "Npgsql" && s.TraceId == server!.TraceId && !s.Name.StartsWith("CONNECT", StringComparison.Ordinal))
            .ToList();
    }

    private static async Task<System.Text.Json.Nodes.JsonNode> ReadAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That((int)response.StatusCode, Is.EqualTo(200), body);
        return System.Text.Json.Nodes.JsonNode.Parse(body)!;
    }

    private static string Statement(SpanRecord span) =>
        span.Attributes.GetValueOrDefault("db.query.text") ?? span.Attributes.GetValueOrDefault("db.statement") ?? span.Name;
}
