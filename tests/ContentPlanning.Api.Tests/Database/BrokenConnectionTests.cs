using System.Diagnostics;
using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using Npgsql;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Database;

/// <summary>
/// Issue 21 item 6: pooled connections whose server sessions died while idle (terminated, PostgreSQL restarted) must not
/// cost a request its answer while the database is up: the request runs again on a new connection.
/// </summary>
public sealed class BrokenConnectionTests : DatabaseTest
{
    private const string PoolName = "cp-broken-pool-test";

    private static ApiFactory Node() => new("node-broken-pool", new Dictionary<string, string?>
    {
        // Its own application_name, so the test terminates this node's pool and nothing else.
        ["ConnectionStrings:Postgres"] = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { ApplicationName = PoolName }.ConnectionString,
        ["CacheCoherence:Enabled"] = "false",
    });

    /// <summary>Fills the node's pool with idle connections, then terminates every one of their server sessions.</summary>
    private static async Task KillThePoolAsync(HttpClient client)
    {
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var response = await client.GetAsync($"{ApiRoot}/users/pool-user/profile");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }));
        var pids = (await Testing.ScalarAsync<int[]>("SELECT coalesce(array_agg(pid), '{}') FROM pg_stat_activity WHERE application_name = @PoolName",
            new { PoolName })).ToList();
        Assert.That(pids, Is.Not.Empty, "the node's pool holds idle connections");
        await Testing.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM unnest(@pids) AS pid", new { pids = pids.ToArray() });
        var watch = Stopwatch.StartNew();
        while (await Testing.ScalarAsync<long>("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(@pids)", new { pids = pids.ToArray() }) > 0)
        {
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the sessions did not end");
            await Task.Delay(10);
        }
    }

    [Test]
    public async Task TheFirstReadAfterThePooledSessionsWereTerminatedIsAnswered()
    {
        await using var node = Node();
        using var client = node.CreateClient();
        using (var created = await client.PutJsonAsync($"{ApiRoot}/users/pool-user/profile", """{"industry": "retail"}"""))
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        await KillThePoolAsync(client);
        using var read = await client.GetAsync($"{ApiRoot}/users/pool-user/profile");
        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK), await read.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task TheFirstWriteAfterThePooledSessionsWereTerminatedIsAppliedOnce()
    {
        await using var node = Node();
        using var client = node.CreateClient();
        using (var created = await client.PutJsonAsync($"{ApiRoot}/users/pool-user/profile", """{"industry": "retail"}"""))
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        await KillThePoolAsync(client);
        var version = await Testing.ScalarAsync<long>("SELECT version FROM user_data_versions WHERE user_id = 'pool-user'");
        using var write = await client.PutJsonAsync($"{ApiRoot}/users/pool-user/profile", """{"industry": "after the kill"}""");
        Assert.That(write.StatusCode, Is.EqualTo(HttpStatusCode.OK), await write.Content.ReadAsStringAsync());
        Assert.That(await Testing.ScalarAsync<string>("SELECT industry FROM user_profiles WHERE user_id = 'pool-user'"), Is.EqualTo("after the kill"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT version FROM user_data_versions WHERE user_id = 'pool-user'"), Is.EqualTo(version + 1),
            "the write committed exactly once");
    }
}
