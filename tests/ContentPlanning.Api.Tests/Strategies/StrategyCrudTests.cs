using System.Net;
using System.Text.Json.Nodes;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.Strategies;

public sealed class StrategyCrudTests : DatabaseTest
{
    [Test]
    public async Task CreatedStrategyReadsBackWithEveryFieldAndFullCompletion()
    {
        using var client = Testing.CreateClient();
        var fields = EveryField();

        using var post = await client.PostJsonAsync($"{Root}/strategies", WithOwner(fields, "user-1", "Everything"));
        Assert.That(post.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var created = await ReadAsync(post);
        var id = created["id"]!.GetValue<long>();
        Assert.That(post.Headers.Location?.ToString(), Is.EqualTo($"{Root}/strategies/{id}"));

        using var get = await client.GetAsync($"{Root}/strategies/{id}");
        Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var read = await ReadAsync(get);

        foreach (var (field, expected) in fields)
        {
            Assert.That(JsonNode.DeepEquals(read[field], expected), Is.True, $"{field}: sent {expected?.ToJsonString()}, read {read[field]?.ToJsonString()}");
        }

        Assert.That(read["user_id"]!.GetValue<string>(), Is.EqualTo("user-1"));
        Assert.That(read["name"]!.GetValue<string>(), Is.EqualTo("Everything"));
        Assert.That(read["completion_percentage"]!.GetValue<double>(), Is.EqualTo(100));
        Assert.That(read["created_at"]!.GetValue<DateTimeOffset>(), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
        Assert.That(JsonNode.DeepEquals(read, created), Is.True, "GET answers what POST answered");
    }

    [Test]
    public async Task AStrategyWithOnlyANameIsZeroPercentComplete()
    {
        using var client = Testing.CreateClient();

        var created = await CreateAsync(client, "user-1", "Bare");

        Assert.That(created["completion_percentage"]!.GetValue<double>(), Is.EqualTo(0));
        Assert.That(created["comprehensive_ai_analysis"], Is.Null);
        Assert.That(created["ab_testing_capabilities"]!.GetValue<bool>(), Is.False);
    }

    [Test]
    public async Task PerformanceMetricsAndAbTestingDoNotCountTowardsCompletion()
    {
        using var client = Testing.CreateClient();

        var created = await CreateAsync(client, "user-1", "Metadata only", new JsonObject
        {
            ["performance_metrics"] = new JsonObject { ["traffic"] = 1 },
            ["ab_testing_capabilities"] = true,
            ["target_audience"] = new JsonObject { ["role"] = "cto" },
            ["comprehensive_ai_analysis"] = new JsonObject { ["summary"] = "x" },
        });

        Assert.That(created["completion_percentage"]!.GetValue<double>(), Is.EqualTo(0));
    }

    [Test]
    public async Task CompletionCountsFilledInputsAndIgnoresEmptyOnes()
    {
        using var client = Testing.CreateClient();

        // Seven of 28 filled (25%); blank text and empty JSON do not count.
        var created = await CreateAsync(client, "user-1", "Quarter", new JsonObject
        {
            ["business_objectives"] = new JsonArray("grow"),
            ["content_budget"] = 0,
            ["team_size"] = 0,
            ["competitive_position"] = "niche",
            ["market_gaps"] = new JsonArray("tutorials"),
            ["content_frequency"] = "daily",
            ["content_roi_targets"] = new JsonObject { ["roi"] = 2 },
            ["market_share"] = "   ",
            ["target_metrics"] = new JsonObject(),
            ["top_competitors"] = new JsonArray(),
        });

        Assert.That(created["completion_percentage"]!.GetValue<double>(), Is.EqualTo(25));
    }

    [Test]
    public async Task UpdateReplacesEveryFieldKeepsTheOwnerAndRecomputesCompletion()
    {
        using var client = Testing.CreateClient();
        var original = await CreateAsync(client, "user-1", "Original", EveryField());
        var id = original["id"]!.GetValue<long>();

        using var put = await client.PutJsonAsync($"{Root}/strategies/{id}", new JsonObject
        {
            ["user_id"] = "someone-else",
            ["name"] = "Renamed",
            ["team_size"] = 3,
        });
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK), await put.Content.ReadAsStringAsync());

        using var get = await client.GetAsync($"{Root}/strategies/{id}");
        var read = await ReadAsync(get);
        Assert.That(read["name"]!.GetValue<string>(), Is.EqualTo("Renamed"));
        Assert.That(read["user_id"]!.GetValue<string>(), Is.EqualTo("user-1"));
        Assert.That(read["team_size"]!.GetValue<int>(), Is.EqualTo(3));
        Assert.That(read["industry"], Is.Null);
        Assert.That(read["comprehensive_ai_analysis"], Is.Null);
        Assert.That(read["completion_percentage"]!.GetValue<double>(), Is.EqualTo(3.6).Within(0.01));
        Assert.That(read["created_at"]!.GetValue<DateTimeOffset>(), Is.EqualTo(original["created_at"]!.GetValue<DateTimeOffset>()));
        Assert.That(read["updated_at"]!.GetValue<DateTimeOffset>(), Is.GreaterThan(original["updated_at"]!.GetValue<DateTimeOffset>()));
    }

    [Test]
    public async Task DeletedStrategyIsGoneWithItsActivation()
    {
        using var client = Testing.CreateClient();
        var id = await CreateIdAsync(client, "user-1", "Doomed");
        await ActivateAsync(client, id);

        using var delete = await client.DeleteAsync($"{Root}/strategies/{id}");
        using var get = await client.GetAsync($"{Root}/strategies/{id}");
        using var again = await client.DeleteAsync($"{Root}/strategies/{id}");

        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(again.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM strategy_activation_status"), Is.Zero);
    }

    [TestCase("GET", "")]
    [TestCase("PUT", "")]
    [TestCase("DELETE", "")]
    [TestCase("POST", "/activate")]
    [TestCase("POST", "/deactivate")]
    [TestCase("POST", "/pause")]
    public async Task AnUnknownIdIs404ProblemDetails(string method, string suffix)
    {
        using var client = Testing.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), $"{Root}/strategies/987654{suffix}");
        if (method == "PUT")
        {
            request.Content = Body(new JsonObject { ["name"] = "x" });
        }

        using var response = await client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That((await ReadAsync(response))["detail"]!.GetValue<string>(), Does.Contain("987654"));
    }

    [TestCase("GET", "abc")]
    [TestCase("GET", "1.5")]
    [TestCase("GET", "99999999999999999999")]
    [TestCase("GET", "-0x1")]
    [TestCase("PUT", "abc")]
    [TestCase("DELETE", "abc")]
    [TestCase("POST", "abc/activate")]
    public async Task ANonNumericIdIsRejectedWithoutAServerError(string method, string path)
    {
        using var client = Testing.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), $"{Root}/strategies/{path}");
        if (method is "PUT" or "POST")
        {
            request.Content = Body(new JsonObject { ["name"] = "x" });
        }

        using var response = await client.SendAsync(request);

        Assert.That(response.StatusCode, Is.AnyOf(HttpStatusCode.NotFound, HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    private static JsonObject WithOwner(JsonObject fields, string userId, string name)
    {
        var body = fields.DeepClone().AsObject();
        body["user_id"] = userId;
        body["name"] = name;
        return body;
    }
}
