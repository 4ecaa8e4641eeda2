using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using Dapper;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Recommendations;

public sealed class RecommendationTests : DatabaseTest
{
    private const string Url = ApiRoot + "/recommendations";

    private static string Recommendation(string title, string priority = "medium", string status = "pending", string userId = "u-1", long? strategyId = null) => $$"""
        {
          "user_id": "{{userId}}", "strategy_id": {{(strategyId is null ? "null" : strategyId.ToString())}},
          "recommendation_type": "blog_post", "title": "{{title}}", "description": "Why and how",
          "target_keywords": ["boots"], "estimated_length": "1500 words", "priority": "{{priority}}",
          "platforms": ["website", "linkedin"], "status": "{{status}}"
        }
        """;

    private static async Task<long> CreateAsync(HttpClient client, string body)
    {
        using var response = await client.PostJsonAsync(Url, body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await JsonAsync(response)).GetProperty("id").GetInt64();
    }

    [Test]
    public async Task ACreatedRecommendationReadsBackWithItsStrategy()
    {
        var strategy = await SeedStrategyAsync("u-1");
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Recommendation("Sizing guide", "high", strategyId: strategy));

        using var get = await client.GetAsync($"{Url}/{id}");
        var json = await JsonAsync(get);
        Assert.Multiple(() =>
        {
            Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(json.GetProperty("strategy_id").GetInt64(), Is.EqualTo(strategy));
            Assert.That(json.GetProperty("recommendation_type").GetString(), Is.EqualTo("blog_post"));
            Assert.That(json.GetProperty("priority").GetString(), Is.EqualTo("high"));
            Assert.That(json.GetProperty("platforms")[1].GetString(), Is.EqualTo("linkedin"));
            Assert.That(json.GetProperty("estimated_length").GetString(), Is.EqualTo("1500 words"));
        });
    }

    [Test]
    public async Task PriorityAndStatusDefaultToMediumAndPending()
    {
        using var client = Testing.CreateClient();
        using var response = await client.PostJsonAsync(Url, """{"user_id": "u-1", "recommendation_type": "video", "title": "Unboxing"}""");
        var json = await JsonAsync(response);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(json.GetProperty("priority").GetString(), Is.EqualTo("medium"));
        Assert.That(json.GetProperty("status").GetString(), Is.EqualTo("pending"));
    }

    [Test]
    public async Task CreatingARecommendationForAnotherUsersStrategyIsRejected()
    {
        var othersStrategy = await SeedStrategyAsync("u-2");
        using var client = Testing.CreateClient();
        await AssertProblemAsync(await client.PostJsonAsync(Url, Recommendation("x", strategyId: othersStrategy)), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.PostJsonAsync(Url, Recommendation("x", strategyId: 987654)), HttpStatusCode.NotFound);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_recommendations"), Is.Zero);
    }

    [Test]
    public async Task ARecommendationRacingTheDeleteOfItsStrategyIsA404AndWritesNothing()
    {
        var strategy = await SeedStrategyAsync("u-1");
        await using var connection = await Testing.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("DELETE FROM content_strategies WHERE id = @strategy", new { strategy }, transaction);

        using var client = Testing.CreateClient();
        var post = client.PostJsonAsync(Url, Recommendation("Racing", strategyId: strategy));
        await Task.Delay(300);
        Assert.That(post.IsCompleted, Is.False, "the write waits for the uncommitted delete of its strategy");
        await transaction.CommitAsync();

        await AssertProblemAsync(await post, HttpStatusCode.NotFound);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_recommendations"), Is.Zero);
    }

    [Test]
    public async Task UpdatingToAnotherUsersStrategyIsRejectedAndChangesNothing()
    {
        var othersStrategy = await SeedStrategyAsync("u-2");
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Recommendation("Mine"));

        await AssertProblemAsync(await client.PutJsonAsync($"{Url}/{id}", Recommendation("Changed", strategyId: othersStrategy)), HttpStatusCode.NotFound);
        Assert.That(await Testing.ScalarAsync<string>("SELECT title FROM content_recommendations WHERE id = @id", new { id }), Is.EqualTo("Mine"));
    }

    [Test]
    public async Task ListingOrdersByPriorityThenNewestAndFiltersByStatus()
    {
        using var client = Testing.CreateClient();
        var lowOld = await CreateAsync(client, Recommendation("low old", "low"));
        var highOld = await CreateAsync(client, Recommendation("high old", "high", "accepted"));
        var medium = await CreateAsync(client, Recommendation("medium", "medium"));
        var highNew = await CreateAsync(client, Recommendation("high new", "high"));
        await CreateAsync(client, Recommendation("someone else's", "high", userId: "u-2"));

        using var all = await client.GetAsync($"{Url}?user_id=u-1");
        var ids = (await JsonAsync(all)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToArray();
        Assert.That(ids, Is.EqualTo(new[] { highNew, highOld, medium, lowOld }));

        using var pending = await client.GetAsync($"{Url}?user_id=u-1&status=pending");
        var pendingIds = (await JsonAsync(pending)).GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToArray();
        Assert.That(pendingIds, Is.EqualTo(new[] { highNew, medium, lowOld }));
    }

    [Test]
    public async Task UpdatingReplacesTheFieldsButNeverTheOwner()
    {
        var strategy = await SeedStrategyAsync("u-1");
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Recommendation("Draft"));

        using var put = await client.PutJsonAsync($"{Url}/{id}", $$"""
            {"user_id": "u-2", "strategy_id": {{strategy}}, "recommendation_type": "video", "title": "Final", "priority": "low", "status": "implemented"}
            """);
        var json = await JsonAsync(put);
        Assert.Multiple(() =>
        {
            Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(json.GetProperty("user_id").GetString(), Is.EqualTo("u-1"));
            Assert.That(json.GetProperty("strategy_id").GetInt64(), Is.EqualTo(strategy));
            Assert.That(json.GetProperty("title").GetString(), Is.EqualTo("Final"));
            Assert.That(json.GetProperty("status").GetString(), Is.EqualTo("implemented"));
            Assert.That(json.GetProperty("description").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        });
    }

    [Test]
    public async Task DeletingARecommendationMakesItNotFound()
    {
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Recommendation("Gone soon"));
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
        await AssertProblemAsync(await client.PutJsonAsync($"{Url}/999999", Recommendation("x")), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.GetAsync($"{Url}/not-a-number"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.PutJsonAsync($"{Url}/not-a-number", Recommendation("x")), HttpStatusCode.NotFound);
    }

    [TestCase("""{"recommendation_type": "blog", "title": "t"}""", "user_id")]
    [TestCase("""{"user_id": "u-1", "title": "t"}""", "recommendation_type")]
    [TestCase("""{"user_id": "u-1", "recommendation_type": "blog"}""", "title")]
    [TestCase("""{"user_id": "u-1", "recommendation_type": "blog", "title": "t", "priority": "urgent"}""", "priority")]
    [TestCase("""{"user_id": "u-1", "recommendation_type": "blog", "title": "t", "status": "done"}""", "status")]
    [TestCase("""{"user_id": "u-1", "recommendation_type": "blog", "title": "t", "platforms": "linkedin"}""", "platforms")]
    public async Task InvalidBodiesAreA400NamingTheField(string body, string field)
    {
        using var client = Testing.CreateClient();
        Assert.That(await ValidationErrorFieldsAsync(await client.PostJsonAsync(Url, body)), Does.Contain(field));
    }

    [Test]
    public async Task ATitleOverTheSchemaLimitIsA400NotADatabaseError()
    {
        using var client = Testing.CreateClient();
        Assert.That(await ValidationErrorFieldsAsync(await client.PostJsonAsync(Url, Recommendation(new string('t', 501)))), Does.Contain("title"));
    }

    [Test]
    public async Task ListingWithAnUnknownStatusIsA400()
    {
        using var client = Testing.CreateClient();
        Assert.That(await ValidationErrorFieldsAsync(await client.GetAsync($"{Url}?user_id=u-1&status=done")), Does.Contain("status"));
        Assert.That(await ValidationErrorFieldsAsync(await client.GetAsync($"{Url}?status=pending")), Does.Contain("user_id"));
    }

    // Issue 22: these rows feed the comprehensive data, not the active strategy (README "Which write evicts and refreshes
    // which answer").
    [Test]
    public async Task EveryWriteEvictsTheComprehensiveDataAndKeepsTheActiveStrategyCached()
    {
        await SeedStrategyAsync("u-1");
        using var client = Testing.CreateClient();
        long id = 0;
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", async () =>
        {
            var response = await client.PostJsonAsync(Url, Recommendation("Cached?"));
            id = (await JsonAsync(response)).GetProperty("id").GetInt64();
            return response;
        });
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", () => client.PutJsonAsync($"{Url}/{id}", Recommendation("Changed")));
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", () => client.DeleteAsync($"{Url}/{id}"));
    }
}
