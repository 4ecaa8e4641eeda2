using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching.Tests.Support;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

/// <summary>
/// Issue 10 item 1: no answer begun after a write's 2xx shows the data from before it unless it is flagged stale, even
/// when the writing node's read of the old value from a slow Redis is still in flight while the write commits.
/// </summary>
public sealed class WriteVisibilityTests : DatabaseTest
{
    [Test]
    public async Task AReadInFlightOnASlowRedisDuringAWriteNeverReinstatesTheOldValueAsFresh()
    {
        using var proxy = new TcpProxy(TestEnvironment.RedisConnectionString);
        await using var nodeA = new ApiFactory("node-slow", new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = proxy.Endpoint });
        using var a = nodeA.CreateClient();
        using var b = Testing.CreateClient();
        await InsertProfileAsync("u-race", industry: "old");
        var computed = await GetAsync(b, "u-race");
        Assert.That(Industry(computed), Is.EqualTo("old"));

        for (var round = 0; round < 3; round++)
        {
            var before = round == 0 ? "old" : $"new-{round - 1}";
            var after = $"new-{round}";
            proxy.ReplyDelay = TimeSpan.FromMilliseconds(200);
            var inFlight = GetAsync(a, "u-race");
            await Task.Delay(50);
            using (var put = await a.PutAsJsonAsync($"/api/content-planning/users/u-race/profile", new { industry = after }))
            {
                Assert.That((int)put.StatusCode, Is.InRange(200, 299), await put.Content.ReadAsStringAsync());
            }
            await inFlight;
            proxy.ReplyDelay = TimeSpan.Zero;

            foreach (var wait in new[] { 0, 500, 1500 })
            {
                await Task.Delay(wait);
                var answer = await GetAsync(a, "u-race");
                var stale = answer["cache_info"]!["is_stale"]!.GetValue<bool>();
                Assert.That(Industry(answer) == after || stale, Is.True,
                    $"round {round}, +{wait} ms: answered {Industry(answer)} (before the write: {before}) from {Source(answer)}, not flagged stale");
            }
        }
    }

    private static string Industry(JsonNode answer) => answer["data"]!["onboarding_data"]!["industry"]!.GetValue<string>();
}
