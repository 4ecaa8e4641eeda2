using System.Net;
using System.Net.Http.Headers;
using System.Text;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.UserProfiles;

public sealed class UserProfileTests : DatabaseTest
{
    private const string Profile = """
        {
          "industry": "retail", "business_size": "small", "target_audience": {"age": "25-40"},
          "writing_tone": "friendly", "writing_voice": "expert", "content_types": ["blog", "video"],
          "brand_values": ["trust"], "platform_preferences": {"linkedin": {"priority": 1}},
          "posting_preferences": {"daily": 1, "weekly": 5, "monthly": 20},
          "posting_days": ["monday", "thursday"], "optimal_times": ["09:00"], "website_url": "https://shop.example.com"
        }
        """;

    [Test]
    public async Task PuttingANewProfileCreatesItAndGetReturnsEveryField()
    {
        using var client = Testing.CreateClient();
        using var put = await client.PutJsonAsync($"{ApiRoot}/users/u-1/profile", Profile);
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        Assert.That(put.Headers.Location?.ToString(), Is.EqualTo($"{ApiRoot}/users/u-1/profile"));

        using var get = await client.GetAsync($"{ApiRoot}/users/u-1/profile");
        Assert.That(get.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var json = await JsonAsync(get);
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("user_id").GetString(), Is.EqualTo("u-1"));
            Assert.That(json.GetProperty("business_size").GetString(), Is.EqualTo("small"));
            Assert.That(json.GetProperty("posting_preferences").GetProperty("weekly").GetInt32(), Is.EqualTo(5));
            Assert.That(json.GetProperty("content_types")[1].GetString(), Is.EqualTo("video"));
            Assert.That(json.GetProperty("website_url").GetString(), Is.EqualTo("https://shop.example.com"));
            Assert.That(json.TryGetProperty("created_at", out _), Is.True);
        });
    }

    [Test]
    public async Task PuttingAgainReplacesEveryFieldAndAnswers200()
    {
        using var client = Testing.CreateClient();
        (await client.PutJsonAsync($"{ApiRoot}/users/u-1/profile", Profile)).Dispose();

        using var put = await client.PutJsonAsync($"{ApiRoot}/users/u-1/profile", """{"industry": "finance"}""");
        Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var json = await JsonAsync(put);
        Assert.That(json.GetProperty("industry").GetString(), Is.EqualTo("finance"));
        Assert.That(json.GetProperty("writing_tone").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null), "absent fields are replaced by null");
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM user_profiles"), Is.EqualTo(1));
    }

    [Test]
    public async Task DeletingAProfileMakesItNotFound()
    {
        using var client = Testing.CreateClient();
        (await client.PutJsonAsync($"{ApiRoot}/users/u-1/profile", Profile)).Dispose();

        using var delete = await client.DeleteAsync($"{ApiRoot}/users/u-1/profile");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        await AssertProblemAsync(await client.GetAsync($"{ApiRoot}/users/u-1/profile"), HttpStatusCode.NotFound);
        await AssertProblemAsync(await client.DeleteAsync($"{ApiRoot}/users/u-1/profile"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AnAbsentProfileIs404()
    {
        using var client = Testing.CreateClient();
        await AssertProblemAsync(await client.GetAsync($"{ApiRoot}/users/nobody/profile"), HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AMalformedUserIdIsRejectedOnWriteAndNotFoundOnRead()
    {
        using var client = Testing.CreateClient();
        using var put = await client.PutJsonAsync($"{ApiRoot}/users/bad%20id/profile", Profile);
        Assert.That(await ValidationErrorFieldsAsync(put), Does.Contain("user_id"));
        await AssertProblemAsync(await client.GetAsync($"{ApiRoot}/users/bad%20id/profile"), HttpStatusCode.NotFound);
    }

    [TestCase("""{"website_url": "ftp://example.com"}""", "website_url")]
    [TestCase("""{"website_url": "/relative/path"}""", "website_url")]
    [TestCase("""{"posting_preferences": [1, 2]}""", "posting_preferences")]
    [TestCase("""{"posting_preferences": "daily"}""", "posting_preferences")]
    [TestCase("""{"platform_preferences": 3}""", "platform_preferences")]
    public async Task InvalidFieldsAreA400NamingTheField(string body, string field)
    {
        using var client = Testing.CreateClient();
        using var put = await client.PutJsonAsync($"{ApiRoot}/users/u-1/profile", body);
        Assert.That(await ValidationErrorFieldsAsync(put), Does.Contain(field));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM user_profiles"), Is.Zero);
    }

    [Test]
    public async Task TooLongTextFieldsAreRejected()
    {
        using var client = Testing.CreateClient();
        var url = "https://example.com/" + new string('a', 2100);
        using var put = await client.PutJsonAsync($"{ApiRoot}/users/u-1/profile", $$"""{"industry": "{{new string('x', 300)}}", "website_url": "{{url}}"}""");
        Assert.That(await ValidationErrorFieldsAsync(put), Is.SupersetOf(new[] { "industry", "website_url" }));
    }

    // Issue 22: the active strategy is built from strategies and their activation only, so a profile write leaves it
    // cached (README "Which write evicts and refreshes which answer"); the comprehensive data it does change is evicted.
    [Test]
    public async Task PuttingAProfileLeavesTheUsersCachedActiveStrategyCached()
    {
        await SeedStrategyAsync("u-1");
        using var client = Testing.CreateClient();
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", () => client.PutJsonAsync($"{ApiRoot}/users/u-1/profile", Profile));
    }

    [Test]
    public async Task DeletingAProfileLeavesTheUsersCachedActiveStrategyCached()
    {
        await SeedStrategyAsync("u-1");
        await Testing.ExecuteAsync("INSERT INTO user_profiles (user_id, industry) VALUES ('u-1', 'retail')");
        using var client = Testing.CreateClient();
        await AssertWriteKeepsActiveStrategyCachedAsync(client, "u-1", () => client.DeleteAsync($"{ApiRoot}/users/u-1/profile"));
    }

    [TestCase(true, TestName = "A profile body over 1 MiB with its length is a 413 problem and stores nothing")]
    [TestCase(false, TestName = "A profile body over 1 MiB sent chunked is a 413 problem and stores nothing")]
    public async Task AProfileBodyOverTheLimitIsA413ProblemAndStoresNothing(bool withLength)
    {
        // On Kestrel: a chunked body is counted by the server itself, which the in-memory test server does not do.
        using var node = new ApiFactory("limit-node", new Dictionary<string, string?> { ["CalendarJobs:WorkersPerNode"] = "0" });
        node.UseKestrel(0);
        node.StartServer();
        using var client = node.CreateClient();
        // Valid JSON for the route, only too large: the limit, not validation, must refuse it.
        var body = Encoding.UTF8.GetBytes($$"""{"industry": "retail", "writing_voice": "{{new string('x', 1024 * 1024)}}"}""");
        using HttpContent content = withLength ? new ByteArrayContent(body) : new ChunkedContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        using var put = await client.PutAsync($"{ApiRoot}/users/u-1/profile", content);

        await AssertProblemAsync(put, HttpStatusCode.RequestEntityTooLarge);
        await AssertProblemAsync(await client.GetAsync($"{ApiRoot}/users/u-1/profile"), HttpStatusCode.NotFound);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM user_profiles"), Is.Zero);
    }

    /// <summary>A body of unknown length (Transfer-Encoding: chunked): the limit has to be counted while reading.</summary>
    private sealed class ChunkedContent(byte[] bytes) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) => stream.WriteAsync(bytes).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
