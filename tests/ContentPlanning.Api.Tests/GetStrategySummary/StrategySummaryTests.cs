using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Infrastructure.Telemetry;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.GetStrategySummary;

public sealed class StrategySummaryTests : DatabaseTest
{
    private static string Url(long id) => $"{ApiRoot}/strategies/{id}/summary";

    private static async Task<long> SeedAsync(string userId)
    {
        var id = await Testing.ScalarAsync<long>(
            "INSERT INTO content_strategies (user_id, name, completion_percentage) VALUES (@userId, 'Growth', 40) RETURNING id", new { userId });
        await Testing.ExecuteAsync(
            "INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date, performance_score) VALUES (@id, @userId, 'active', now(), 0.7)",
            new { id, userId });
        await Testing.ExecuteAsync("""
            INSERT INTO calendar_events (strategy_id, title, scheduled_at, status, platform)
            SELECT @id, 'Upcoming ' || g, now() + g * interval '1 day', 'scheduled', 'linkedin' FROM generate_series(1, 7) g;
            INSERT INTO calendar_events (strategy_id, title, scheduled_at, status) VALUES
                (@id, 'Past scheduled', now() - interval '1 day', 'scheduled'),
                (@id, 'Draft', now() + interval '2 days', 'draft'),
                (@id, 'Done', now() - interval '3 days', 'published');
            """, new { id });
        await Testing.ExecuteAsync("""
            INSERT INTO content_recommendations (user_id, strategy_id, recommendation_type, title, priority, status) VALUES
                (@userId, @id, 'blog', 'A', 'high', 'pending'),
                (@userId, @id, 'blog', 'B', 'high', 'accepted'),
                (@userId, @id, 'blog', 'C', 'low', 'pending'),
                (@userId, NULL, 'blog', 'Not this strategy', 'low', 'pending');
            """, new { id, userId });
        await Testing.ExecuteAsync("""
            INSERT INTO content_analytics (user_id, strategy_id, platform, metrics, performance_score) VALUES
                (@userId, @id, 'linkedin', '{"views": 100, "likes": 5, "note": "text"}', 0.5),
                (@userId, @id, 'linkedin', '{"views": 50.5}', NULL),
                (@userId, @id, 'blog', '{"views": 10}', 0.8),
                (@userId, @id, 'blog', '[1, 2]', 0.2);
            """, new { id, userId });
        await Testing.ExecuteAsync("""
            INSERT INTO generated_calendars (user_id, strategy_id, calendar_type, start_date, end_date, request, result, created_at) VALUES
                (@userId, @id, 'weekly', '2026-01-05', '2026-01-11', '{}', '{"quality_score": 0.4}', now() - interval '1 day'),
                (@userId, @id, 'monthly', '2026-02-02', '2026-03-01', '{}', '{"quality_score": 0.82}', now());
            """, new { id, userId });
        return id;
    }

    private static async Task<JsonNode> GetAsync(HttpClient client, long id)
    {
        using var response = await client.GetAsync(Url(id));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonNode.Parse(body)!;
    }

    [Test]
    public async Task TheSummaryCountsWhatTheStrategyHas()
    {
        using var client = Testing.CreateClient();
        var id = await SeedAsync("sum-user");

        var summary = await GetAsync(client, id);

        Assert.That(summary["strategy"]!["name"]!.GetValue<string>(), Is.EqualTo("Growth"));
        Assert.That(summary["strategy"]!["user_id"]!.GetValue<string>(), Is.EqualTo("sum-user"));
        Assert.That(summary["strategy"]!["completion_percentage"]!.GetValue<double>(), Is.EqualTo(40));
        Assert.That(summary["activation"]!["status"]!.GetValue<string>(), Is.EqualTo("active"));
        Assert.That(summary["activation"]!["performance_score"]!.GetValue<double>(), Is.EqualTo(0.7).Within(1e-6));
        Assert.That(summary["activation"]!["since"], Is.Not.Null);

        var events = summary["calendar_events"]!;
        Assert.That(events["total"]!.GetValue<int>(), Is.EqualTo(10));
        Assert.That(events["by_status"]!["scheduled"]!.GetValue<int>(), Is.EqualTo(8));
        Assert.That(events["by_status"]!["draft"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(events["by_status"]!["published"]!.GetValue<int>(), Is.EqualTo(1));
        var next = events["next_scheduled"]!.AsArray().Select(e => e!["title"]!.GetValue<string>()).ToList();
        Assert.That(next, Is.EqualTo(new[] { "Upcoming 1", "Upcoming 2", "Upcoming 3", "Upcoming 4", "Upcoming 5" }),
            "the next five scheduled ones from now, in order; past and draft events are not upcoming");

        var recommendations = summary["recommendations"]!;
        Assert.That(recommendations["total"]!.GetValue<int>(), Is.EqualTo(3), "only the strategy's recommendations");
        Assert.That(recommendations["by_status"]!["pending"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(recommendations["by_status"]!["accepted"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(recommendations["by_priority"]!["high"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(recommendations["by_priority"]!["low"]!.GetValue<int>(), Is.EqualTo(1));

        var analytics = summary["analytics"]!;
        Assert.That(analytics["records"]!.GetValue<int>(), Is.EqualTo(4));
        Assert.That(analytics["average_performance_score"]!.GetValue<double>(), Is.EqualTo((0.5 + 0.8 + 0.2) / 3).Within(1e-6),
            "the average over scored records");
        Assert.That(analytics["platforms"]!["linkedin"]!["records"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(analytics["platforms"]!["linkedin"]!["metrics"]!["views"]!.GetValue<double>(), Is.EqualTo(150.5));
        Assert.That(analytics["platforms"]!["linkedin"]!["metrics"]!["likes"]!.GetValue<double>(), Is.EqualTo(5));
        Assert.That(analytics["platforms"]!["linkedin"]!["metrics"]!.AsObject().ContainsKey("note"), Is.False, "only numeric metrics are totalled");
        Assert.That(analytics["platforms"]!["blog"]!["metrics"]!["views"]!.GetValue<double>(), Is.EqualTo(10), "a non-object metrics value adds nothing");

        var calendar = summary["latest_calendar"]!;
        Assert.That(calendar["calendar_type"]!.GetValue<string>(), Is.EqualTo("monthly"));
        Assert.That(calendar["start_date"]!.GetValue<string>(), Is.EqualTo("2026-02-02"));
        Assert.That(calendar["end_date"]!.GetValue<string>(), Is.EqualTo("2026-03-01"));
        Assert.That(calendar["quality_score"]!.GetValue<double>(), Is.EqualTo(0.82).Within(1e-9));
        Assert.That(summary["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo("database"));
    }

    [Test]
    public async Task AStrategyWithNothingYetHasAnEmptySummary()
    {
        using var client = Testing.CreateClient();
        var id = await SeedStrategyAsync("sum-empty");

        var summary = await GetAsync(client, id);

        Assert.That(summary["activation"], Is.Null);
        Assert.That(summary["latest_calendar"], Is.Null);
        Assert.That(summary["calendar_events"]!["total"]!.GetValue<int>(), Is.Zero);
        Assert.That(summary["calendar_events"]!["next_scheduled"]!.AsArray(), Is.Empty);
        Assert.That(summary["analytics"]!["average_performance_score"], Is.Null);
    }

    [Test]
    public async Task AMissingStrategyIsANotFoundProblem()
    {
        using var client = Testing.CreateClient();
        using var response = await client.GetAsync(Url(987654));
        await AssertProblemAsync(response, HttpStatusCode.NotFound);
        using var invalid = await client.GetAsync(Url(0));
        await AssertProblemAsync(invalid, HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task TheSummaryIsOneDatabaseRoundTripAndThenCached()
    {
        using var client = Testing.CreateClient();
        var id = await SeedAsync("sum-trips");
        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();

        var traceId = await TraceOfAsync(client, spans, id, "database");
        var commands = spans.Snapshot().Where(s => s.Source == "Npgsql" && s.TraceId == traceId && !s.Name.StartsWith("CONNECT", StringComparison.Ordinal)).ToList();
        Assert.That(commands, Has.Count.EqualTo(1), "every section in one batch");

        var cachedTrace = await TraceOfAsync(client, spans, id, "memory");
        Assert.That(spans.Snapshot().Where(s => s.Source == "Npgsql" && s.TraceId == cachedTrace), Is.Empty);
    }

    private static async Task<string> TraceOfAsync(HttpClient client, RecentSpans spans, long id, string expectedSource)
    {
        var sent = DateTimeOffset.UtcNow;
        var summary = await GetAsync(client, id);
        Assert.That(summary["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo(expectedSource));
        for (var i = 0; i < 100; i++)
        {
            var server = spans.Snapshot().LastOrDefault(s => s.Source == "Microsoft.AspNetCore" && s.StartTime >= sent.AddMilliseconds(-5)
                                                             && s.Attributes.GetValueOrDefault("url.path") == Url(id));
            if (server is not null)
            {
                return server.TraceId;
            }

            await Task.Delay(20);
        }

        Assert.Fail("no server span for the summary request");
        return "";
    }

    public static IEnumerable<TestCaseData> SourceWrites()
    {
        yield return new TestCaseData("strategy update", (Func<HttpClient, long, Task<HttpResponseMessage>>)((c, id) =>
            c.PutJsonAsync($"{ApiRoot}/strategies/{id}", """{"name": "Renamed"}"""))).SetName("A strategy update evicts the summary");
        yield return new TestCaseData("activation", (Func<HttpClient, long, Task<HttpResponseMessage>>)((c, id) =>
            c.PostAsync($"{ApiRoot}/strategies/{id}/pause", null))).SetName("An activation change evicts the summary");
        yield return new TestCaseData("recommendation", (Func<HttpClient, long, Task<HttpResponseMessage>>)((c, id) =>
            c.PostJsonAsync($"{ApiRoot}/recommendations", $$"""{"user_id": "sum-evict", "strategy_id": {{id}}, "recommendation_type": "blog", "title": "New"}""")))
            .SetName("A new recommendation evicts the summary");
        yield return new TestCaseData("analytics", (Func<HttpClient, long, Task<HttpResponseMessage>>)((c, id) =>
            c.PostJsonAsync($"{ApiRoot}/analytics", $$"""{"user_id": "sum-evict", "strategy_id": {{id}}, "platform": "blog", "metrics": {"views": 1} }""")))
            .SetName("A new analytics record evicts the summary");
    }

    [TestCaseSource(nameof(SourceWrites))]
    public async Task AWriteToASourceEvictsTheCachedSummary(string _, Func<HttpClient, long, Task<HttpResponseMessage>> write)
    {
        using var client = Testing.CreateClient();
        var id = await SeedAsync("sum-evict");
        await GetAsync(client, id);
        Assert.That((await GetAsync(client, id))["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo("memory"));

        using (var response = await write(client, id))
        {
            Assert.That((int)response.StatusCode, Is.InRange(200, 299), await response.Content.ReadAsStringAsync());
        }

        Assert.That((await GetAsync(client, id))["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo("database"));
    }

    [Test]
    public async Task ACalendarInvalidationEvictsTheSummaryButNotTheComprehensiveData()
    {
        using var client = Testing.CreateClient();
        var id = await SeedAsync("sum-cal");
        await GetAsync(client, id);
        var cache = Testing.Factory.Services.GetRequiredService<ContentPlanning.Api.Features.Shared.UserDataCache>();
        var comprehensive = $"{ApiRoot}/calendar-generation/comprehensive-user-data?user_id=sum-cal";
        using (await client.GetAsync(comprehensive))
        {
        }

        await cache.InvalidateCalendarAsync("sum-cal");

        Assert.That((await GetAsync(client, id))["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo("database"));
        using var again = await client.GetAsync(comprehensive);
        var body = JsonNode.Parse(await again.Content.ReadAsStringAsync())!;
        Assert.That(body["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo("memory"));
    }

    [Test]
    public async Task MetricTotalsPastTheLargestDoubleSaturateInsteadOfFailing()
    {
        // Issue 21 item 4: each record alone is accepted; their sum is not a finite double, and the summary answered 500.
        var id = await SeedStrategyAsync("sum-huge");
        using var client = Testing.CreateClient();
        foreach (var metrics in new[] { """{"views": 1.7e308, "likes": -1.7e308}""", """{"views": 1.7e308, "likes": -1.7e308}""", """{"views": 1, "likes": 2}""" })
        {
            using var created = await client.PostJsonAsync(ApiRoot + "/analytics",
                $$"""{"user_id": "sum-huge", "strategy_id": {{id}}, "platform": "blog", "metrics": {{metrics}}}""");
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        }

        var totals = (await GetAsync(client, id))["analytics"]!["platforms"]!["blog"]!["metrics"]!;

        Assert.Multiple(() =>
        {
            Assert.That(totals["views"]!.GetValue<double>(), Is.EqualTo(double.MaxValue));
            Assert.That(totals["likes"]!.GetValue<double>(), Is.EqualTo(double.MinValue));
        });
    }
}
