using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.GapAnalyses;

public sealed class GapAnalysisTests : DatabaseTest
{
    private const string Url = ApiRoot + "/gap-analysis";

    private static string Analysis(string userId = "u-1", string site = "https://shop.example.com") => $$"""
        {
          "user_id": "{{userId}}", "website_url": "{{site}}",
          "competitor_urls": ["https://rival.example.com"], "target_keywords": ["shoes", "boots"],
          "analysis_results": {"content_gaps": ["sizing guides"]}, "recommendations": [{"title": "Write a sizing guide"}],
          "opportunities": [{"keyword": "winter boots", "volume": 1200}]
        }
        """;

    private static async Task<long> CreateAsync(HttpClient client, string body)
    {
        using var response = await client.PostJsonAsync(Url, body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return (await JsonAsync(response)).GetProperty("id").GetInt64();
    }

    [Test]
    public async Task ACreatedAnalysisReadsBackWithItsJsonFields()
    {
        using var client = Testing.CreateClient();
        using var created = await client.PostJsonAsync(Url, Analysis());
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        var id = (await JsonAsync(created)).GetProperty("id").GetInt64();
        Assert.That(created.Headers.Location?.ToString(), Is.EqualTo($"{Url}/{id}"));

        using var get = await client.GetAsync($"{Url}/{id}");
        var json = await JsonAsync(get);
        Assert.Multiple(() =>
        {
            Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That(json.GetProperty("user_id").GetString(), Is.EqualTo("u-1"));
            Assert.That(json.GetProperty("target_keywords")[1].GetString(), Is.EqualTo("boots"));
            Assert.That(json.GetProperty("analysis_results").GetProperty("content_gaps")[0].GetString(), Is.EqualTo("sizing guides"));
            Assert.That(json.GetProperty("opportunities")[0].GetProperty("volume").GetInt32(), Is.EqualTo(1200));
        });
    }

    [Test]
    public async Task ListingReturnsOnlyTheUsersAnalysesNewestFirstInPages()
    {
        using var client = Testing.CreateClient();
        var first = await CreateAsync(client, Analysis(site: "https://a.example.com"));
        var second = await CreateAsync(client, Analysis(site: "https://b.example.com"));
        var third = await CreateAsync(client, Analysis(site: "https://c.example.com"));
        await CreateAsync(client, Analysis(userId: "u-2"));

        using var page1 = await client.GetAsync($"{Url}?user_id=u-1&limit=2");
        var json1 = await JsonAsync(page1);
        var ids1 = json1.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToArray();
        Assert.That(ids1, Is.EqualTo(new[] { third, second }));

        var cursor = json1.GetProperty("next_cursor").GetString();
        using var page2 = await client.GetAsync($"{Url}?user_id=u-1&limit=2&cursor={Uri.EscapeDataString(cursor!)}");
        var json2 = await JsonAsync(page2);
        var ids2 = json2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("id").GetInt64()).ToArray();
        Assert.That(ids2, Is.EqualTo(new[] { first }));
        Assert.That(json2.GetProperty("next_cursor").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
    }

    [Test]
    public async Task UpdatingReplacesTheFieldsButNeverTheOwner()
    {
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Analysis());

        using var put = await client.PutJsonAsync($"{Url}/{id}", """{"user_id": "u-2", "website_url": "https://new.example.com", "target_keywords": ["hats"]}""");
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var json = await JsonAsync(put);
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("user_id").GetString(), Is.EqualTo("u-1"));
            Assert.That(json.GetProperty("website_url").GetString(), Is.EqualTo("https://new.example.com"));
            Assert.That(json.GetProperty("target_keywords")[0].GetString(), Is.EqualTo("hats"));
            Assert.That(json.GetProperty("opportunities").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        });
    }

    [Test]
    public async Task DeletingAnAnalysisMakesItNotFound()
    {
        using var client = Testing.CreateClient();
        var id = await CreateAsync(client, Analysis());

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
        await AssertProblemAsync(await client.PutJsonAsync($"{Url}/999999", """{"website_url": "https://x.example.com"}"""), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.GetAsync($"{Url}/abc"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.DeleteAsync($"{Url}/abc"), HttpStatusCode.NotFound);
    }

    [TestCase("""{"website_url": "https://x.example.com"}""", "user_id")]
    [TestCase("""{"user_id": "u-1"}""", "website_url")]
    [TestCase("""{"user_id": "u-1", "website_url": "not a url"}""", "website_url")]
    [TestCase("""{"user_id": "has space", "website_url": "https://x.example.com"}""", "user_id")]
    [TestCase("""{"user_id": "u-1", "website_url": "https://x.example.com", "competitor_urls": "https://y.example.com"}""", "competitor_urls")]
    public async Task InvalidBodiesAreA400NamingTheField(string body, string field)
    {
        using var client = Testing.CreateClient();
        Assert.That(await ValidationErrorFieldsAsync(await client.PostJsonAsync(Url, body)), Does.Contain(field));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_gap_analyses"), Is.Zero);
    }

    [Test]
    public async Task ListingWithoutAUserOrWithABadLimitIsA400()
    {
        using var client = Testing.CreateClient();
        Assert.That(await ValidationErrorFieldsAsync(await client.GetAsync(Url)), Does.Contain("user_id"));
        Assert.That(await ValidationErrorFieldsAsync(await client.GetAsync($"{Url}?user_id=u-1&limit=0")), Does.Contain("limit"));
        Assert.That(await ValidationErrorFieldsAsync(await client.GetAsync($"{Url}?user_id=u-1&cursor=garbage")), Does.Contain("cursor"));
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
            var response = await client.PostJsonAsync(Url, Analysis());
            id = (await JsonAsync(response)).GetProperty("id").GetInt64();
            return response;
        });
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", () => client.PutJsonAsync($"{Url}/{id}", """{"website_url": "https://n.example.com"}"""));
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", () => client.DeleteAsync($"{Url}/{id}"));
    }
}
