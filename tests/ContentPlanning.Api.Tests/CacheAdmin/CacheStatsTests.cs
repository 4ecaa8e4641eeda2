using ContentPlanning.Api.Features.GetComprehensiveUserData;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheAdmin;

public sealed class CacheStatsTests : DatabaseTest
{
    [Test]
    public async Task AMissThenAHitMoveTheNodesCounters()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        await InsertProfileAsync("counted");
        var before = await StatsAsync(admin);

        await GetAsync(client, "counted");
        await GetAsync(client, "counted");
        var after = await StatsAsync(admin);

        Assert.That(after["node_id"]!.GetValue<string>(), Is.EqualTo("node-a"));
        Assert.That(Delta(before, after, "factory_executions"), Is.EqualTo(1));
        Assert.That(Delta(before, after, "memory", "hits"), Is.EqualTo(1));
        Assert.That(Delta(before, after, "memory", "misses"), Is.EqualTo(1));
        Assert.That(after["memory"]!["entries"]!.GetValue<long>(), Is.GreaterThanOrEqualTo(1));
        Assert.That(after["memory"]!["hit_ratio"]!.GetValue<double>(), Is.InRange(0.0, 1.0));
        Assert.That(after["redis"]!["available"]!.GetValue<bool>(), Is.True);
        Assert.That(after["backplane"]!["connected"]!.GetValue<bool>(), Is.True);
        Assert.That(after["database"]!["total_entries"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(after["database"]!["valid_entries"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(after["database"]!["expired_entries"]!.GetValue<long>(), Is.Zero);
    }

    [Test]
    public async Task AnL2HitIsCountedAsARedisHit()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        await InsertProfileAsync("redis-counted");
        await GetAsync(client, "redis-counted");
        Testing.ClearMemory();
        var before = await StatsAsync(admin);

        var answer = await GetAsync(client, "redis-counted");
        var after = await StatsAsync(admin);

        Assert.That(Source(answer), Is.EqualTo("redis"));
        Assert.That(Delta(before, after, "redis", "hits"), Is.EqualTo(1));
        Assert.That(Delta(before, after, "factory_executions"), Is.Zero);
    }

    [Test]
    public async Task ExpiredSnapshotRowsAreCountedApart()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        foreach (var user in new[] { "rows-1", "rows-2", "rows-3" })
        {
            await InsertProfileAsync(user);
            await GetAsync(client, user);
        }

        await Testing.ExecuteAsync("UPDATE comprehensive_user_data_cache SET expires_at = now() - interval '1 minute' WHERE user_id = 'rows-2'");
        var database = (await StatsAsync(admin))["database"]!;

        Assert.That(database["total_entries"]!.GetValue<long>(), Is.EqualTo(3));
        Assert.That(database["expired_entries"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(database["valid_entries"]!.GetValue<long>(), Is.EqualTo(2));
    }

    [Test]
    public async Task MostAccessedRanksSnapshotsBySnapshotHits()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        var hits = new Dictionary<string, int> { ["ranked-once"] = 1, ["ranked-never"] = 0, ["ranked-thrice"] = 3 };
        foreach (var user in hits.Keys)
        {
            await InsertProfileAsync(user);
            await GetAsync(client, user);
        }

        foreach (var (user, count) in hits)
        {
            for (var i = 0; i < count; i++)
            {
                await Testing.Cache.ClearAsync(allowFailSafe: false);
                Assert.That(Source(await GetAsync(client, user)), Is.EqualTo("database_snapshot"));
            }
        }

        await Testing.Factory.Services.GetRequiredService<SnapshotAccessRecorder>().FlushAsync(CancellationToken.None);
        // The recorder's own 2-second flush may hold some of the hits in flight: wait for it (~5 s at most).
        long[] expected = [3, 1, 0];
        var mostAccessed = (await StatsAsync(admin))["database"]!["most_accessed"]!.AsArray();
        for (var i = 0; i < 50 && !mostAccessed.Select(m => m!["access_count"]!.GetValue<long>()).SequenceEqual(expected); i++)
        {
            await Task.Delay(100);
            mostAccessed = (await StatsAsync(admin))["database"]!["most_accessed"]!.AsArray();
        }

        Assert.That(mostAccessed.Select(m => m!["user_id"]!.GetValue<string>()), Is.EqualTo(new[] { "ranked-thrice", "ranked-once", "ranked-never" }));
        Assert.That(mostAccessed.Select(m => m!["access_count"]!.GetValue<long>()), Is.EqualTo(expected));
        Assert.That(mostAccessed.Select(m => m!["strategy_id"]), Is.All.Null);
        Assert.That(mostAccessed[0]!["last_accessed"]!.GetValue<DateTimeOffset>(),
            Is.GreaterThan(mostAccessed[2]!["last_accessed"]!.GetValue<DateTimeOffset>()));
    }

    [Test]
    public async Task AForcedRefreshIsNotCountedAsASnapshotAccess()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("forced-access");
        await GetAsync(client, "forced-access");
        await Testing.Cache.ClearAsync(allowFailSafe: false);
        Assert.That(Source(await GetAsync(client, "forced-access")), Is.EqualTo("database_snapshot"));

        await GetAsync(client, "forced-access", forceRefresh: true);
        await GetAsync(client, "forced-access", forceRefresh: true);
        await Testing.Factory.Services.GetRequiredService<SnapshotAccessRecorder>().FlushAsync(CancellationToken.None);
        // Let a flush the recorder's own timer may have started finish writing.
        await Task.Delay(500);

        Assert.That(await Testing.ScalarAsync<long>("SELECT access_count FROM comprehensive_user_data_cache WHERE user_id = 'forced-access'"),
            Is.EqualTo(1));
    }

    [Test]
    public async Task SnapshotHitsRecordedJustBeforeANodeStopsAreWritten()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("stopping");
        await GetAsync(client, "stopping");
        await Testing.Cache.ClearAsync(allowFailSafe: false);

        await using (var node = new Infrastructure.ApiFactory("node-b"))
        {
            using var clientB = node.CreateClient();
            Assert.That(Source(await GetAsync(clientB, "stopping")), Is.EqualTo("database_snapshot"));
        }

        Assert.That(await Testing.ScalarAsync<long>("SELECT access_count FROM comprehensive_user_data_cache WHERE user_id = 'stopping'"),
            Is.EqualTo(1));
    }

    [Test]
    public async Task MostAccessedListsAtMostFive()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        for (var i = 0; i < 7; i++)
        {
            await InsertProfileAsync($"many-{i}");
            await GetAsync(client, $"many-{i}");
        }

        var database = (await StatsAsync(admin))["database"]!;

        Assert.That(database["total_entries"]!.GetValue<long>(), Is.EqualTo(7));
        Assert.That(database["most_accessed"]!.AsArray(), Has.Count.EqualTo(5));
    }

    private static long Delta(System.Text.Json.Nodes.JsonNode before, System.Text.Json.Nodes.JsonNode after, params string[] path)
    {
        long Read(System.Text.Json.Nodes.JsonNode node) => path.Aggregate(node, (n, p) => n[p]!).GetValue<long>();
        return Read(after) - Read(before);
    }
}
