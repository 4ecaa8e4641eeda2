using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.GapAnalyses;

/// <summary>Issue 10 item 6: one user's source rows of the comprehensive data are bounded in stored bytes.</summary>
public sealed class UserSourceBytesLimitTests : DatabaseTest
{
    private const string Url = ApiRoot + "/gap-analysis";
    private const long Limit = 64 * 1024;

    // Random GUIDs: PostgreSQL cannot compress them much, so stored bytes follow the JSON's length.
    private static string Analysis(string userId, int approximateBytes)
    {
        var gaps = new JsonArray();
        for (var i = 0; i < approximateBytes / 40; i++) gaps.Add(Guid.NewGuid().ToString("N"));
        return new JsonObject
        {
            ["user_id"] = userId,
            ["website_url"] = "https://shop.example.com",
            ["analysis_results"] = new JsonObject { ["content_gaps"] = gaps },
        }.ToJsonString();
    }

    private static ApiFactory BoundedNode() => new("node-bounded", new Dictionary<string, string?>
    {
        ["Database:MaxUserSourceBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["CacheCoherence:Enabled"] = "false",
    });

    [Test]
    public async Task AWriteBeyondTheUsersByteBoundIs413AndChangesNothing()
    {
        await using var node = BoundedNode();
        using var client = node.CreateClient();
        for (var i = 0; i < 3; i++)
        {
            using var accepted = await client.PostJsonAsync(Url, Analysis("heavy", 16 * 1024));
            Assert.That(accepted.StatusCode, Is.EqualTo(HttpStatusCode.Created), await accepted.Content.ReadAsStringAsync());
        }

        using var refused = await client.PostJsonAsync(Url, Analysis("heavy", 24 * 1024));
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), problem.ToJsonString());
        Assert.That(problem["title"]!.GetValue<string>(), Is.EqualTo("User data limit exceeded"));
        Assert.That(problem["detail"]!.GetValue<string>(), Does.Contain(Limit.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_gap_analyses WHERE user_id = 'heavy'"), Is.EqualTo(3));

        // The bound is per user: another user writes as much as the first did.
        using var other = await client.PostJsonAsync(Url, Analysis("light", 24 * 1024));
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.Created));
    }

    [Test]
    public async Task TheSourceWritesDeclareThe413InOpenApi()
    {
        using var client = Testing.CreateClient();
        var paths = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!["paths"]!;

        foreach (var (path, method) in new[]
                 {
                     ("/api/content-planning/gap-analysis", "post"), ("/api/content-planning/gap-analysis/{id}", "put"),
                     ("/api/content-planning/recommendations", "post"), ("/api/content-planning/recommendations/{id}", "put"),
                     ("/api/content-planning/analytics", "post"),
                 })
        {
            Assert.That(paths[path]?[method]?["responses"]?["413"], Is.Not.Null, $"{method} {path}");
        }
    }

    [Test]
    public async Task ConcurrentWritesOfOneUserNeverTogetherExceedTheBound()
    {
        await using var node = BoundedNode();
        using var client = node.CreateClient();
        var bodies = Enumerable.Range(0, 12).Select(_ => Analysis("racing", 12 * 1024)).ToList();

        var statuses = await Task.WhenAll(bodies.Select(async body =>
        {
            using var response = await client.PostJsonAsync(Url, body);
            return response.StatusCode;
        }));

        var stored = await Testing.ScalarAsync<long>("""
            SELECT coalesce(sum(pg_column_size(website_url) + pg_column_size(analysis_results)), 0)
            FROM content_gap_analyses WHERE user_id = 'racing'
            """);
        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(statuses.Count(s => s == HttpStatusCode.RequestEntityTooLarge), Is.GreaterThan(0));
        Assert.That(stored, Is.LessThanOrEqualTo(Limit));
    }

    [Test]
    public async Task AShrinkingUpdateIsAcceptedAboveALoweredBound()
    {
        using var unbounded = Testing.CreateClient();
        using var created = await unbounded.PostJsonAsync(Url, Analysis("over", 160 * 1024));
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var id = (await JsonAsync(created)).GetProperty("id").GetInt64();

        await using var node = BoundedNode();
        using var client = node.CreateClient();
        using var shrunk = await client.PutJsonAsync($"{Url}/{id}", Analysis("over", 96 * 1024));
        Assert.That(shrunk.StatusCode, Is.EqualTo(HttpStatusCode.OK), await shrunk.Content.ReadAsStringAsync());
        using var grown = await client.PostJsonAsync(Url, Analysis("over", 1024));
        Assert.That(grown.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
    }
}
