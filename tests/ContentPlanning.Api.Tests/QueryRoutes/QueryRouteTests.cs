using System.Net;
using System.Text.Json.Nodes;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.QueryRoutes;

/// <summary>The integration plan's query routes that mirror an existing list: same filters, order and paging as the original.</summary>
public sealed class QueryRouteTests : DatabaseTest
{
    private static async Task<JsonNode> GetOkAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonNode.Parse(body)!;
    }

    [Test]
    public async Task StrategyAnalyticsPagesLikeTheAnalyticsListOfThatStrategy()
    {
        using var client = Testing.CreateClient();
        var id = await SeedStrategyAsync("q-analytics");
        var other = await SeedStrategyAsync("q-analytics");
        await Testing.ExecuteAsync("""
            INSERT INTO content_analytics (user_id, strategy_id, platform, recorded_at)
            SELECT 'q-analytics', CASE WHEN g % 3 = 0 THEN @other ELSE @id END, CASE WHEN g % 2 = 0 THEN 'blog' ELSE 'linkedin' END,
                   now() - g * interval '1 minute'
            FROM generate_series(1, 12) g
            """, new { id, other });

        foreach (var filter in new[] { "", "&platform=blog" })
        {
            var viaStrategy = await AllPagesAsync(client, $"{ApiRoot}/strategies/{id}/analytics?limit=3{filter}");
            var viaList = await AllPagesAsync(client, $"{ApiRoot}/analytics?strategy_id={id}&limit=3{filter}");
            Assert.That(viaStrategy, Is.EqualTo(viaList));
            Assert.That(viaStrategy, Is.Not.Empty);
        }

        Assert.That(await AllPagesAsync(client, $"{ApiRoot}/strategies/{id}/analytics?limit=100"), Has.Count.EqualTo(8));
    }

    [Test]
    public async Task StrategyEventsPageLikeTheCalendarEventsListOfThatStrategy()
    {
        using var client = Testing.CreateClient();
        var id = await SeedStrategyAsync("q-events");
        var other = await SeedStrategyAsync("q-events");
        await Testing.ExecuteAsync("""
            INSERT INTO calendar_events (strategy_id, title, scheduled_at, status, platform)
            SELECT CASE WHEN g % 4 = 0 THEN @other ELSE @id END, 'Event ' || g, now() + g * interval '1 hour',
                   CASE WHEN g % 2 = 0 THEN 'draft' ELSE 'scheduled' END, CASE WHEN g % 3 = 0 THEN 'blog' ELSE 'linkedin' END
            FROM generate_series(1, 14) g
            """, new { id, other });

        foreach (var filter in new[] { "", "&status=scheduled", "&platform=blog" })
        {
            var viaStrategy = await AllPagesAsync(client, $"{ApiRoot}/strategies/{id}/events?limit=3{filter}");
            var viaList = await AllPagesAsync(client, $"{ApiRoot}/calendar-events?strategy_id={id}&limit=3{filter}");
            Assert.That(viaStrategy, Is.EqualTo(viaList));
            Assert.That(viaStrategy, Is.Not.Empty);
        }

        Assert.That(await AllPagesAsync(client, $"{ApiRoot}/strategies/{id}/events?limit=100"), Has.Count.EqualTo(11));
        using var missing = await client.GetAsync($"{ApiRoot}/strategies/424242/events");
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    [Test]
    public async Task StrategyAnalyticsOfAMissingStrategyIsNotFound()
    {
        using var client = Testing.CreateClient();
        using var response = await client.GetAsync($"{ApiRoot}/strategies/424242/analytics");
        await AssertProblemAsync(response, HttpStatusCode.NotFound);
        using var badLimit = await client.GetAsync($"{ApiRoot}/strategies/1/analytics?limit=0");
        await AssertProblemAsync(badLimit, HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task AnExistingStrategyWithoutAnalyticsIsAnEmptyPage()
    {
        using var client = Testing.CreateClient();
        var id = await SeedStrategyAsync("q-empty");
        var page = await GetOkAsync(client, $"{ApiRoot}/strategies/{id}/analytics");
        Assert.That(page["items"]!.AsArray(), Is.Empty);
        Assert.That(page["next_cursor"], Is.Null);
    }

    [Test]
    public async Task UserRecommendationsAreTheRecommendationsListOfThatUser()
    {
        using var client = Testing.CreateClient();
        await Testing.ExecuteAsync("""
            INSERT INTO content_recommendations (user_id, recommendation_type, title, priority, status) VALUES
                ('q-recs', 'blog', 'Low', 'low', 'pending'),
                ('q-recs', 'blog', 'High', 'high', 'pending'),
                ('q-recs', 'blog', 'Accepted', 'medium', 'accepted'),
                ('q-other', 'blog', 'Someone else', 'high', 'pending')
            """);

        foreach (var query in new[] { "", "?status=pending", "?limit=1" })
        {
            var viaUser = await GetOkAsync(client, $"{ApiRoot}/users/q-recs/recommendations{query}");
            var viaList = await GetOkAsync(client, $"{ApiRoot}/recommendations?user_id=q-recs{query.Replace('?', '&')}");
            Assert.That(viaUser.ToJsonString(), Is.EqualTo(viaList.ToJsonString()));
        }

        var all = await GetOkAsync(client, $"{ApiRoot}/users/q-recs/recommendations");
        Assert.That(all["items"]!.AsArray().Select(i => i!["title"]!.GetValue<string>()), Is.EqualTo(new[] { "High", "Accepted", "Low" }));
        using var invalid = await client.GetAsync($"{ApiRoot}/users/q-recs/recommendations?status=bogus");
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task ServiceHealthIsTheReadinessAnswer()
    {
        using var client = Testing.CreateClient();
        var health = await GetOkAsync(client, $"{ApiRoot}/health");
        Assert.That(health["status"]!.GetValue<string>(), Is.AnyOf("healthy", "degraded"));
        Assert.That(health["checks"]!.AsObject().Select(c => c.Key), Is.SupersetOf(new[] { "postgres", "redis" }));
    }

    [Test]
    public async Task DatabaseHealthReportsMigrationsAndThePool()
    {
        using var client = Testing.CreateClient();
        var health = await GetOkAsync(client, $"{ApiRoot}/database/health");

        Assert.That(health["status"]!.GetValue<string>(), Is.EqualTo("healthy"));
        var postgres = health["checks"]!["postgres"]!;
        Assert.That(health["checks"]!.AsObject().Count, Is.EqualTo(1), "the database check only");
        var data = postgres["data"]!;
        Assert.That(data["migrations_pending"]!.AsArray(), Is.Empty);
        Assert.That(data["migrations_known"]!.GetValue<int>(), Is.GreaterThanOrEqualTo(1));
        var pool = data["pool"]!;
        Assert.That(pool["max"]!.GetValue<long>(), Is.GreaterThanOrEqualTo(100), "the test connection string's Maximum Pool Size");
        Assert.That(pool["idle"]!.GetValue<long>() + pool["busy"]!.GetValue<long>(), Is.GreaterThanOrEqualTo(1), "the check itself opened one");
    }

    private static async Task<List<string>> AllPagesAsync(HttpClient client, string url)
    {
        var ids = new List<string>();
        string? cursor = null;
        do
        {
            var page = await GetOkAsync(client, cursor is null ? url : $"{url}&cursor={Uri.EscapeDataString(cursor)}");
            ids.AddRange(page["items"]!.AsArray().Select(i => i!["id"]!.ToJsonString()));
            cursor = page["next_cursor"]?.GetValue<string>();
        }
        while (cursor is not null);

        return ids;
    }
}
