using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching;
using Microsoft.Extensions.DependencyInjection;
using ZiggyCreatures.Caching.Fusion;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.RedisHighAvailability;

/// <summary>
/// The tier and invalidation checks (GetComprehensiveUserData/CacheTierTests, CacheAdmin/InvalidateUserCacheTests) on two
/// nodes whose Redis is a 3-primary Redis Cluster (<see cref="RedisCluster"/>): entries, tag markers and the backplane
/// channel hash to different primaries. The change listener is off on both nodes, so Redis (L2 and backplane) is the only
/// way a change made on one node reaches the other.
/// </summary>
[NonParallelizable]
public sealed class RedisClusterTests : DatabaseTest
{
    private static readonly Dictionary<string, string?> NoListener = new() { ["CacheCoherence:Enabled"] = "false" };

    private RedisCluster? _cluster;

    private RedisCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    [OneTimeSetUp]
    public async Task StartClusterAsync() => _cluster = await RedisCluster.StartAsync();

    [OneTimeTearDown]
    public async Task StopClusterAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }

    [SetUp]
    public async Task EmptyClusterAsync()
    {
        foreach (var port in Cluster.Ports)
        {
            await RedisServers.CliAsync(port, "flushall");
        }
    }

    [Test]
    public async Task EachTierAnswersInTurnAndTheOtherNodeReadsTheEntryFromTheCluster()
    {
        await using var nodeA = Node("cluster-a");
        await using var nodeB = Node("cluster-b");
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        await InsertProfileAsync("tiers");
        var gapId = await InsertGapAnalysisAsync("tiers", """["before"]""");

        var computed = await GetAsync(clientA, "tiers");
        var memory = await GetAsync(clientA, "tiers");
        nodeA.Services.GetRequiredService<CacheMemory>().Clear();
        var redis = await GetAsync(clientA, "tiers");
        var redisOnB = await GetAsync(clientB, "tiers");
        await nodeA.Services.GetRequiredService<IFusionCache>().ClearAsync(allowFailSafe: false);
        var snapshot = await GetAsync(clientA, "tiers");

        await Testing.ExecuteAsync(
            """UPDATE content_gap_analyses SET analysis_results = '{"content_gaps": ["after"]}' WHERE id = @gapId""", new { gapId });
        await nodeA.Services.GetRequiredService<IFusionCache>().ClearAsync(allowFailSafe: false);
        var recomputed = await GetAsync(clientA, "tiers");

        Assert.That(new[] { computed, memory, redis, redisOnB, snapshot, recomputed }.Select(Source),
            Is.EqualTo(new[] { "computed", "memory", "redis", "redis", "database_snapshot", "computed" }));
        Assert.That(new[] { memory, redis, redisOnB, snapshot }.Select(DataHash), Is.All.EqualTo(DataHash(computed)));
        Assert.That(JsonNode.DeepEquals(redisOnB["data"], computed["data"]), Is.True);
        Assert.That(DataHash(recomputed), Is.Not.EqualTo(DataHash(computed)));
    }

    [Test]
    public async Task RemovingAUsersTagOnOneNodeEvictsItFromEveryTierOfTheOtherAndTheKeysSpreadOverEveryPrimary()
    {
        await using var nodeA = Node("cluster-a");
        await using var nodeB = Node("cluster-b");
        using var clientB = nodeB.CreateClient();
        using var admin = CreateAdminClient(nodeA);
        var users = Enumerable.Range(1, 12).Select(i => $"sharded-{i}").ToList();
        foreach (var user in users)
        {
            await SeedCompleteUserAsync(user);
            await GetAsync(clientB, user);
        }

        var cachedOnB = await Task.WhenAll(users.Select(async user => Source(await GetAsync(clientB, user))));
        var evicted = new List<(string Source, TimeSpan Elapsed)>();
        foreach (var user in users.Take(4))
        {
            using var response = await admin.DeleteAsync($"{CacheRoot}/invalidate/{user}");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            evicted.Add(await FirstAnswerNotFromMemoryAsync(clientB, user, TimeSpan.FromSeconds(5)));
        }

        var untouched = await Task.WhenAll(users.Skip(4).Select(async user => Source(await GetAsync(clientB, user))));
        var keys = await Cluster.KeysPerNodeAsync();
        var markers = new List<int>();
        foreach (var port in Cluster.Ports)
        {
            markers.Add((await RedisCluster.KeysAsync(port, "*__fc:t:*")).Count);
        }

        TestContext.Progress.WriteLine(
            $"Redis Cluster: keys per primary {string.Join(" / ", keys)}, tag markers {string.Join(" / ", markers)}; "
            + $"invalidations on A left B's memory in {string.Join(", ", evicted.Select(e => $"{e.Elapsed.TotalMilliseconds:0} ms"))}");
        Assert.Multiple(() =>
        {
            Assert.That(cachedOnB, Is.All.EqualTo("memory"));
            // Neither B's memory nor the cluster nor the snapshot table answers an invalidated user: computed again.
            Assert.That(evicted.Select(e => e.Source), Is.All.EqualTo("computed"));
            Assert.That(untouched, Is.All.EqualTo("memory"), "the other users stay cached");
            Assert.That(keys, Is.All.GreaterThan(0), "entries and markers hash to every primary");
            Assert.That(markers.Count(m => m > 0), Is.GreaterThan(1), "the tag markers live on more than one primary");
        });
    }

    [Test]
    public async Task AWriteOnOneNodeIsReadOnTheOtherWhereverEachNodeSubscribedToTheBackplane()
    {
        await using var nodeA = Node("cluster-a");
        await using var nodeB = Node("cluster-b");
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        await SeedCompleteUserAsync("writer");
        await GetAsync(clientB, "writer");
        var cached = await GetAsync(clientB, "writer");

        using (var put = await clientA.PutJsonAsync("/api/content-planning/users/writer/profile", """{"industry": "shipping"}"""))
        {
            Assert.That(put.StatusCode, Is.EqualTo(HttpStatusCode.OK), await put.Content.ReadAsStringAsync());
        }

        var next = await FirstAnswerNotFromMemoryAsync(clientB, "writer", TimeSpan.FromSeconds(5));
        var after = await GetAsync(clientB, "writer");
        // Each node subscribes on a primary of its client's choosing; a PUBLISH on any primary reaches every one over the
        // cluster bus. PUBSUB NUMSUB answers for the primary asked only.
        var channel = "";
        foreach (var port in Cluster.Ports)
        {
            channel = (await RedisServers.CliAsync(port, "pubsub", "channels", "*Backplane*")).Trim() is { Length: > 0 } name ? name : channel;
        }

        var subscribers = new List<int>();
        foreach (var port in Cluster.Ports)
        {
            var reply = (await RedisServers.CliAsync(port, "pubsub", "numsub", channel)).Split('\n');
            subscribers.Add(int.Parse(reply[^1].Trim(), System.Globalization.CultureInfo.InvariantCulture));
        }

        TestContext.Progress.WriteLine($"Redis Cluster: a write on A left B's memory in {next.Elapsed.TotalMilliseconds:0} ms; backplane channel {channel}, subscribers per primary {string.Join(" / ", subscribers)}");
        Assert.Multiple(() =>
        {
            Assert.That(Source(cached), Is.EqualTo("memory"));
            Assert.That(next.Source, Is.EqualTo("computed"), "the write's tag removal reached B's memory and the cluster");
            Assert.That(after["data"]!["industry"]!.GetValue<string>(), Is.EqualTo("shipping"));
            Assert.That(subscribers.Sum(), Is.EqualTo(2), $"each node holds one subscription to the backplane channel '{channel}'");
        });
    }

    private ApiFactory Node(string name)
    {
        var node = new ApiFactory(name, new Dictionary<string, string?>(NoListener) { ["ConnectionStrings:Redis"] = Cluster.ConnectionString });
        _ = node.Server;
        return node;
    }

    /// <summary>Reads until an answer does not come from L1, for at most <paramref name="limit"/>; "memory" if none did.</summary>
    private static async Task<(string Source, TimeSpan Elapsed)> FirstAnswerNotFromMemoryAsync(HttpClient client, string userId, TimeSpan limit)
    {
        var started = Stopwatch.StartNew();
        string source;
        do
        {
            source = Source(await GetAsync(client, userId));
            if (source != "memory") break;
            await Task.Delay(10);
        }
        while (started.Elapsed < limit);

        return (source, started.Elapsed);
    }
}
