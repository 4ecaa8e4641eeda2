using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>Calendar generation is limited per caller and the admin warm route per client: 429 problems with Retry-After.</summary>
public sealed class RateLimitTests : DatabaseTest
{
    private const string Generate = ApiRoot + "/calendar-generation/generate-calendar";

    [Test]
    public async Task ACallerOverItsGenerationLimitGets429WithRetryAfterAndOtherCallersDoNot()
    {
        await using var node = new ApiFactory("node-rate-limits", new Dictionary<string, string?>
        {
            ["RateLimiting:CalendarGenerationPerMinute"] = "2",
            ["CacheCoherence:Enabled"] = "false",
        });
        await SeedStrategyAsync("limited-a");
        await SeedStrategyAsync("limited-b");
        using var alice = node.CreateClient(ApiFactory.UserToken("limited-a"));
        using var bob = node.CreateClient(ApiFactory.UserToken("limited-b"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await alice.PostJsonAsync(Generate, """{"user_id": "limited-a", "calendar_type": "weekly"}""");
            statuses.Add(response.StatusCode);
            if (i == 2)
            {
                await AssertProblemAsync(response, HttpStatusCode.TooManyRequests);
                Assert.That(response.Headers.RetryAfter?.Delta, Is.Not.Null.And.GreaterThan(TimeSpan.Zero));
            }
        }

        Assert.That(statuses, Is.EqualTo(new[] { HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests }));
        using var other = await bob.PostJsonAsync(Generate, """{"user_id": "limited-b", "calendar_type": "weekly"}""");
        Assert.That(other.StatusCode, Is.EqualTo(HttpStatusCode.Created), "another caller has its own partition");
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'limited-a'"), Is.EqualTo(2));
    }

    [Test]
    public async Task TheWarmRouteIsLimitedPerClient()
    {
        await using var node = new ApiFactory("node-warm-limit", new Dictionary<string, string?>
        {
            ["RateLimiting:CacheWarmPerMinute"] = "1",
            ["CacheCoherence:Enabled"] = "false",
        });
        using var admin = node.CreateAnonymousClient();
        admin.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);

        using var first = await admin.PostJsonAsync(ApiRoot + "/calendar-generation/cache/warm", """{"user_ids": ["nobody"]}""");
        using var second = await admin.PostJsonAsync(ApiRoot + "/calendar-generation/cache/warm", """{"user_ids": ["nobody"]}""");

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK), await first.Content.ReadAsStringAsync());
        await AssertProblemAsync(second, HttpStatusCode.TooManyRequests);
        Assert.That(second.Headers.RetryAfter, Is.Not.Null);
    }

    [Test]
    public async Task WithRedisUnreachableEachNodeStillLimitsOnItsOwn()
    {
        // Nothing listens on port 1: every Redis command fails at once, and the limiter counts on this node instead.
        await using var node = new ApiFactory("node-limit-no-redis", new Dictionary<string, string?>
        {
            ["ConnectionStrings:Redis"] = "127.0.0.1:1,connectTimeout=200",
            ["RateLimiting:CalendarGenerationPerMinute"] = "2",
            ["CacheCoherence:Enabled"] = "false",
        });
        using var alice = node.CreateClient(ApiFactory.UserToken("limited-offline"));

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await alice.PostJsonAsync(Generate, """{"user_id": "limited-offline", "calendar_type": "weekly"}""");
            statuses.Add(response.StatusCode);
        }

        Assert.That(statuses.Count(s => s == HttpStatusCode.TooManyRequests), Is.EqualTo(1), string.Join(", ", statuses));
        Assert.That(statuses.Take(2), Has.None.EqualTo(HttpStatusCode.InternalServerError));
    }
}
