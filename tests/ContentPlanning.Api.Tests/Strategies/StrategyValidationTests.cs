using System.Net;
using System.Text.Json.Nodes;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.Strategies;

public sealed class StrategyValidationTests : DatabaseTest
{
    private static IEnumerable<TestCaseData> InvalidBodies()
    {
        yield return Case("name", """{"user_id": "user-1", "name": "NAME"}""".Replace("NAME", new string('n', 256), StringComparison.Ordinal), "Name of 256 characters");
        yield return Case("name", """{"user_id": "user-1", "name": ""}""", "Empty name");
        yield return Case("name", """{"user_id": "user-1"}""", "Missing name");
        yield return Case("content_budget", """{"user_id": "user-1", "name": "x", "content_budget": -0.01}""", "Negative content_budget");
        yield return Case("team_size", """{"user_id": "user-1", "name": "x", "team_size": 100001}""", "team_size over 100000");
        yield return Case("team_size", """{"user_id": "user-1", "name": "x", "team_size": -1}""", "Negative team_size");
        yield return Case("competitive_position", """{"user_id": "user-1", "name": "x", "competitive_position": "dominant"}""", "Unknown competitive_position");
        yield return Case("competitive_position", """{"user_id": "user-1", "name": "x", "competitive_position": "Leader"}""", "competitive_position in the wrong case");
        yield return Case("user_id", """{"user_id": "has space", "name": "x"}""", "user_id with a space");
        yield return Case("user_id", """{"user_id": "USER", "name": "x"}""".Replace("USER", new string('u', 129), StringComparison.Ordinal), "user_id of 129 characters");
        yield return Case("user_id", """{"name": "x"}""", "Missing user_id");
        yield return Case("user_id", """{"user_id": "", "name": "x"}""", "Empty user_id");
    }

    private static TestCaseData Case(string field, string body, string name) => new TestCaseData(field, body).SetName(name);

    [TestCaseSource(nameof(InvalidBodies))]
    public async Task CreateRejectsAnInvalidFieldWith400NamingIt(string field, string body)
    {
        using var client = Testing.CreateClient();

        using var response = await client.PostJsonAsync($"{Root}/strategies", JsonNode.Parse(body)!);

        await AssertNamesFieldAsync(response, field);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_strategies"), Is.Zero);
    }

    [Test]
    public async Task UpdateRejectsAnInvalidFieldAndLeavesTheStrategyUnchanged()
    {
        using var client = Testing.CreateClient();
        var id = await CreateIdAsync(client, "user-1", "Kept", new JsonObject { ["team_size"] = 4 });

        using var response = await client.PutJsonAsync($"{Root}/strategies/{id}", new JsonObject { ["name"] = "x", ["team_size"] = 100_001 });

        await AssertNamesFieldAsync(response, "team_size");
        Assert.That(await Testing.ScalarAsync<string>("SELECT name FROM content_strategies WHERE id = @id", new { id }), Is.EqualTo("Kept"));
    }

    [Test]
    public async Task BoundaryValuesAreAccepted()
    {
        using var client = Testing.CreateClient();

        var created = await CreateAsync(client, "a.B_c@d-9", new string('n', 255), new JsonObject
        {
            ["content_budget"] = 0,
            ["team_size"] = 100_000,
            ["competitive_position"] = "emerging",
        });

        Assert.That(created["team_size"]!.GetValue<int>(), Is.EqualTo(100_000));
        Assert.That(created["user_id"]!.GetValue<string>(), Is.EqualTo("a.B_c@d-9"));
    }

    [TestCase("has space")]
    [TestCase("semi;colon")]
    [TestCase("")]
    public async Task ListingWithAnInvalidUserIdIs400(string userId)
    {
        using var client = Testing.CreateClient();

        using var response = await client.GetAsync($"{Root}/strategies?user_id={Uri.EscapeDataString(userId)}");

        await AssertNamesFieldAsync(response, "user_id");
    }

    [TestCase("has space")]
    [TestCase("semi;colon")]
    public async Task ActiveStrategyWithAnInvalidUserIdIs400(string userId)
    {
        using var client = Testing.CreateClient();

        using var response = await client.GetAsync(ActiveStrategy(userId));

        await AssertNamesFieldAsync(response, "user_id");
    }

    private static async Task AssertNamesFieldAsync(HttpResponseMessage response, string field)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var errors = JsonNode.Parse(text)!["errors"]?.AsObject();
        Assert.That(errors, Is.Not.Null, text);
        Assert.That(errors!.Select(e => e.Key), Does.Contain(field), text);
    }
}
