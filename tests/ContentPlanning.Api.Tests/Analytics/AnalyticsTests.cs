using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Analytics;

public sealed class AnalyticsTests : DatabaseTest
{
    private const string Url = ApiRoot + "/analytics";

    private static string Record(string platform = "linkedin", string userId = "u-1", long? strategyId = null, long? eventId = null, double? score = 72.5) => $$"""
        {
          "user_id": "{{userId}}", "platform": "{{platform}}",
          "strategy_id": {{Json(strategyId)}}, "event_id": {{Json(eventId)}},
          "metrics": {"views": 1200, "clicks": 85}, "performance_score": {{Json(score)}}
        }
        """;

    private static string Json(object? value) => value is null ? "null" : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!;

    private static async Task<long> CreateAsync(HttpClient client, string body)
    {
        using var response = await client.PostJsonAsync(Url, body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await JsonAsync(response)).GetProperty("id").GetInt64();
    }

    private static async Task<long[]> ListIdsAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync($"{Url}?{query}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return (await JsonAsync(response)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToArray();
    }

    [Test]
    public async Task ACreatedRecordReadsBackWithItsMetricsStrategyAndEvent()
    {
        var strategy = await SeedStrategyAsync("u-1");
        var calendarEvent = await SeedEventAsync(strategy);
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Record(strategyId: strategy, eventId: calendarEvent));

        using var get = await client.GetAsync($"{Url}/{id}");
        var json = await JsonAsync(get);
        Assert.Multiple(() =>
        {
            Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(json.GetProperty("user_id").GetString(), Is.EqualTo("u-1"));
            Assert.That(json.GetProperty("strategy_id").GetInt64(), Is.EqualTo(strategy));
            Assert.That(json.GetProperty("event_id").GetInt64(), Is.EqualTo(calendarEvent));
            Assert.That(json.GetProperty("metrics").GetProperty("clicks").GetInt32(), Is.EqualTo(85));
            Assert.That(json.GetProperty("performance_score").GetDouble(), Is.EqualTo(72.5));
            Assert.That(json.TryGetProperty("recorded_at", out _), Is.True);
        });
    }

    [Test]
    public async Task AbsentMetricsAreStoredAsAnEmptyObject()
    {
        using var client = Testing.CreateClient();
        using var response = await client.PostJsonAsync(Url, """{"user_id": "u-1", "platform": "x"}""");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That((await JsonAsync(response)).GetProperty("metrics").EnumerateObject().Count(), Is.Zero);
    }

    [Test]
    public async Task RecordingAgainstAnotherUsersStrategyOrEventIsRejected()
    {
        var othersStrategy = await SeedStrategyAsync("u-2");
        var othersEvent = await SeedEventAsync(othersStrategy);
        using var client = Testing.CreateClient();

        await AssertProblemAsync(await client.PostJsonAsync(Url, Record(strategyId: othersStrategy)), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.PostJsonAsync(Url, Record(eventId: othersEvent)), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.PostJsonAsync(Url, Record(eventId: 987654)), HttpStatusCode.NotFound);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_analytics"), Is.Zero);
    }

    [Test]
    public async Task ListingFiltersByUserStrategyAndPlatformNewestFirst()
    {
        var strategy = await SeedStrategyAsync("u-1");
        using var client = Testing.CreateClient();
        var a = await CreateAsync(client, Record("linkedin", strategyId: strategy));
        var b = await CreateAsync(client, Record("twitter", strategyId: strategy));
        var c = await CreateAsync(client, Record("linkedin"));
        await CreateAsync(client, Record("linkedin", userId: "u-2"));

        Assert.That(await ListIdsAsync(client, "user_id=u-1"), Is.EqualTo(new[] { c, b, a }));
        Assert.That(await ListIdsAsync(client, $"strategy_id={strategy}"), Is.EqualTo(new[] { b, a }));
        Assert.That(await ListIdsAsync(client, $"strategy_id={strategy}&platform=linkedin"), Is.EqualTo(new[] { a }));
        Assert.That(await ListIdsAsync(client, "user_id=u-1&platform=linkedin"), Is.EqualTo(new[] { c, a }));
    }

    [Test]
    public async Task ListingPagesWithTheCursor()
    {
        using var client = Testing.CreateClient();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await CreateAsync(client, Record()));
        }

        using var first = await client.GetAsync($"{Url}?user_id=u-1&limit=2");
        var json = await JsonAsync(first);
        var cursor = json.GetProperty("next_cursor").GetString();
        Assert.That(await ListIdsAsync(client, $"user_id=u-1&limit=2&cursor={Uri.EscapeDataString(cursor!)}"), Is.EqualTo(new[] { ids[0] }));
    }

    [Test]
    public async Task ListingNeedsAUserOrAStrategy()
    {
        using var client = Testing.CreateClient();
        Assert.That(await ValidationErrorFieldsAsync(await client.GetAsync($"{Url}?platform=linkedin")), Does.Contain("user_id"));
        Assert.That(await ValidationErrorFieldsAsync(await client.GetAsync($"{Url}?user_id=bad%20id")), Does.Contain("user_id"));
    }

    [Test]
    public async Task DeletingARecordMakesItNotFound()
    {
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Record());
        using var delete = await client.DeleteAsync($"{Url}/{id}");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        await AssertProblemAsync(await client.GetAsync($"{Url}/{id}"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.DeleteAsync($"{Url}/{id}"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task UnknownAndNonNumericIdsAre404()
    {
        using var client = Testing.CreateClient();
        await AssertProblemAsync(await client.GetAsync($"{Url}/999999"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.GetAsync($"{Url}/12abc"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.DeleteAsync($"{Url}/12abc"), HttpStatusCode.NotFound);
    }

    [TestCase("""{"platform": "x"}""", "user_id")]
    [TestCase("""{"user_id": "u-1"}""", "platform")]
    [TestCase("""{"user_id": "u-1", "platform": "x", "metrics": [1, 2]}""", "metrics")]
    [TestCase("""{"user_id": "u-1", "platform": "x", "performance_score": 100.5}""", "performance_score")]
    [TestCase("""{"user_id": "u-1", "platform": "x", "performance_score": -1}""", "performance_score")]
    public async Task InvalidBodiesAreA400NamingTheField(string body, string field)
    {
        using var client = Testing.CreateClient();
        Assert.That(await ValidationErrorFieldsAsync(await client.PostJsonAsync(Url, body)), Does.Contain(field));
    }

    // Issue 22: analytics feed the comprehensive data, not the active strategy (README "Which write evicts and refreshes
    // which answer").
    [Test]
    public async Task EveryWriteEvictsTheComprehensiveDataAndKeepsTheActiveStrategyCached()
    {
        await SeedStrategyAsync("u-1");
        using var client = Testing.CreateClient();
        long id = 0;
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", async () =>
        {
            var response = await client.PostJsonAsync(Url, Record());
            id = (await JsonAsync(response)).GetProperty("id").GetInt64();
            return response;
        });
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", () => client.DeleteAsync($"{Url}/{id}"));
    }
}
