using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching;
using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;
using Comprehensive = ContentPlanning.Api.Features.GetComprehensiveUserData.GetComprehensiveUserData;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

public sealed class FailSafeTests : DatabaseTest
{
    [Test]
    public async Task WithPostgresDownAPreviouslyReadUserIsServedStaleAndAnUnseenUserGets503()
    {
        await InsertProfileAsync("seen");
        await InsertProfileAsync("unseen");
        using var proxy = PostgresProxy();
        await using var node = NodeThrough(proxy);
        using var client = node.CreateClient();
        var fresh = await GetAsync(client, "seen");
        // The entry must be due for a refresh, or L1 would answer without asking the database at all.
        await node.Services.GetRequiredService<ZiggyCreatures.Caching.Fusion.IFusionCache>().ExpireAsync(Comprehensive.CacheKey("seen", null));

        proxy.Cut();
        using var stale = await client.GetAsync(Url("seen"));
        using var unseen = await client.GetAsync(Url("unseen"));

        Assert.That(Source(fresh), Is.EqualTo("computed"));
        Assert.That(stale.StatusCode, Is.EqualTo(HttpStatusCode.OK), await stale.Content.ReadAsStringAsync());
        var answer = JsonNode.Parse(await stale.Content.ReadAsStringAsync())!;
        Assert.That(answer["cache_info"]!["is_stale"]!.GetValue<bool>(), Is.True);
        Assert.That(answer["cache_info"]!["is_cached"]!.GetValue<bool>(), Is.True);
        Assert.That(DataHash(answer), Is.EqualTo(DataHash(fresh)));
        Assert.That(answer["data"]!["onboarding_data"]!["industry"]!.GetValue<string>(), Is.EqualTo("technology"));
        Assert.That(unseen.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
        Assert.That(unseen.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task WithPostgresDownWarmingReportsTheFailedUserAndStillWarmsTheCachedOne()
    {
        await InsertProfileAsync("cached");
        await InsertProfileAsync("uncached");
        using var proxy = PostgresProxy();
        await using var node = NodeThrough(proxy);
        using var client = node.CreateClient();
        using var admin = CreateAdminClient(node);
        await GetAsync(client, "cached");

        proxy.Cut();
        using var response = await admin.PostAsJsonAsync($"{CacheRoot}/warm", new { user_ids = new[] { "uncached", "cached" } });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToJsonString());
        var outcomes = body["results"]!.AsArray().ToDictionary(r => r!["user_id"]!.GetValue<string>());
        Assert.That(outcomes["uncached"]!["status"]!.GetValue<string>(), Is.EqualTo("failed"));
        Assert.That(outcomes["uncached"]!["error"]!.GetValue<string>(), Is.EqualTo("database unavailable"));
        Assert.That(outcomes["cached"]!["status"]!.GetValue<string>(), Is.EqualTo("warmed"));
        Assert.That(outcomes["cached"]!["source"]!.GetValue<string>(), Is.EqualTo("memory"));
        Assert.That(body["failed"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(body["warmed"]!.GetValue<int>(), Is.EqualTo(1));
    }

    [Test]
    public async Task WithRedisDownReadsAreStillAnsweredFromMemoryTheSnapshotOrTheSources()
    {
        await InsertProfileAsync("in-memory");
        await InsertProfileAsync("in-snapshot");
        await InsertProfileAsync("nowhere");
        using var client = Testing.CreateClient();
        await GetAsync(client, "in-snapshot");
        using var proxy = new TcpProxy(TestEnvironment.RedisConnectionString.Split(',')[0]);
        await using var node = new ApiFactory("node-b", new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = proxy.Endpoint });
        using var clientB = node.CreateClient();
        await GetAsync(clientB, "in-memory");

        proxy.Cut();
        var memory = await GetAsync(clientB, "in-memory");
        var snapshot = await GetAsync(clientB, "in-snapshot");
        var computed = await GetAsync(clientB, "nowhere");

        Assert.That(Source(memory), Is.EqualTo("memory"));
        Assert.That(Source(snapshot), Is.EqualTo("database_snapshot"));
        Assert.That(Source(computed), Is.EqualTo("computed"));
    }

    /// <summary>A cuttable path to the test PostgreSQL.</summary>
    private static TcpProxy PostgresProxy() =>
        new($"127.0.0.1:{new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString).Port}");

    /// <summary>Another node whose every database connection goes through <paramref name="proxy"/> (no pool keeps one alive).</summary>
    private static ApiFactory NodeThrough(TcpProxy proxy)
    {
        var postgres = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString)
        {
            Host = "127.0.0.1",
            Port = proxy.Port,
            Pooling = false,
        };
        return new ApiFactory("node-b", new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = postgres.ConnectionString,
            ["Database:MigrateOnStart"] = "false",
        });
    }
}
