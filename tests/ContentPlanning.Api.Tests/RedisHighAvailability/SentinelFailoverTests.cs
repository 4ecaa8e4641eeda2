using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.ReadLoad;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.RedisHighAvailability;

/// <summary>
/// Two API processes on a Redis under Sentinel (a primary, a replica, three sentinels: <see cref="RedisSentinelSet"/>),
/// reading and writing through a forced <c>SENTINEL FAILOVER</c>, then a third process started afterwards reading what
/// was written during it (the writes the demoted primary took are lost: <c>RedisConnection.PrimaryChanged</c>). Prints
/// what it measured (README "Redis Sentinel and Redis Cluster").
/// </summary>
public sealed class SentinelFailoverTests : DatabaseTest
{
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(1);

    [Test]
    public async Task AForcedFailoverUnderLoadFailsNoRequestServesNothingStaleAsFreshAndTheBackplaneFollowsTheNewPrimary()
    {
        await SeedAsync(TestEnvironment.PostgresConnectionString);
        await using var redis = await RedisSentinelSet.StartAsync();
        var (primary, replica) = (redis.DataPorts[0], redis.DataPorts[1]);
        var settings = new Dictionary<string, string> { ["ConnectionStrings__Redis"] = redis.ConnectionString };
        await using var a = await ApiProcess.StartAsync("sentinel-a", settings);
        await using var b = await ApiProcess.StartAsync("sentinel-b", settings);
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        var load = new ReadLoad([clientA, clientB]);
        await load.RunAsync(TimeSpan.FromSeconds(2), untilEachRead: true);
        Assert.That(load.EachRead, Is.True, "every user was read on every node before the failover: " + string.Join("\n", load.Failures.Take(5)));

        // Reads on both nodes and a write every 100 ms alternating between them, from before the failover until the old
        // primary has become a replica of the new one: SENTINEL FAILOVER leaves it a writable primary for several seconds
        // after the promotion, and what it took meanwhile is discarded when it resynchronises from the new one.
        using var stopWrites = new CancellationTokenSource();
        using var stopReads = new CancellationTokenSource();
        var reads = load.RunAsync(TimeSpan.MaxValue, stop: stopReads.Token);
        var written = 0;
        var writes = Task.Run(async () =>
        {
            for (var i = 0; !stopWrites.IsCancellationRequested; i++)
            {
                await load.WriteAsync(i % 2 == 0 ? clientA : clientB, User(i % Users + 1), $"failover-{i}", Grace);
                Interlocked.Increment(ref written);
                await Task.Delay(100);
            }
        });
        await RedisServers.WaitUntilAsync(() => Task.FromResult(Volatile.Read(ref written) >= 4), TimeSpan.FromSeconds(30), "the writes never started");
        var failover = Stopwatch.StartNew();
        await redis.FailoverAsync();
        await RedisServers.WaitUntilAsync(() => redis.SwitchedToAsync(replica), TimeSpan.FromSeconds(60), "the sentinels never promoted the replica");
        var switched = failover.Elapsed;
        await RedisServers.WaitUntilAsync(() => RedisSentinelSet.ReplicatesFromAsync(primary, replica), TimeSpan.FromSeconds(60),
            "the old primary never became a replica of the new one");
        var demoted = failover.Elapsed;
        // The last writes went to a primary that was then demoted: no later write repairs what it lost, and no read on A
        // or B revalidates those users before a node that starts now, with nothing in memory, reads them.
        await stopWrites.CancelAsync();
        await stopReads.CancelAsync();
        await Task.WhenAll(writes, reads);
        await using var c = await ApiProcess.StartAsync("sentinel-c", settings);
        using var clientC = c.CreateClient();
        var staleOnC = new List<string>();
        foreach (var user in Enumerable.Range(1, Users).Select(User))
        {
            var (industry, isStale) = await ReadAsync(clientC, user);
            if (load.Outdated(user, industry) && !isStale) staleOnC.Add($"{user}: {industry}, older than its last write, as fresh");
        }

        // A and B again: every answer is checked against the last writes.
        await load.RunAsync(Grace * 2);

        // After the switch: a write on A read on B, and an invalidation on A (the admin route: its only way to B is the
        // backplane, as no database row the change listener watches changes) evicting B's memory.
        await PutIndustryAsync(clientA, User(2), "after-failover");
        var committed = Stopwatch.StartNew();
        string? seen;
        do
        {
            seen = (await ReadAsync(clientB, User(2))).Industry;
        }
        while (seen != "after-failover" && committed.Elapsed < TimeSpan.FromSeconds(5) && await Pause());
        var writeConverged = committed.Elapsed;

        await ReadAsync(clientB, User(3));
        var cachedOnB = await SourceAsync(clientB, User(3));
        using (var admin = AdminClient(a))
        {
            using var invalidated = await admin.DeleteAsync($"{ApiRoot}/calendar-generation/cache/invalidate/{User(3)}");
            Assert.That(invalidated.StatusCode, Is.EqualTo(HttpStatusCode.OK), await invalidated.Content.ReadAsStringAsync());
        }

        var invalidatedAt = Stopwatch.StartNew();
        string afterInvalidation;
        do
        {
            afterInvalidation = await SourceAsync(clientB, User(3));
        }
        while (afterInvalidation == "memory" && invalidatedAt.Elapsed < TimeSpan.FromSeconds(10) && await Pause());
        var backplaneConverged = invalidatedAt.Elapsed;

        TestContext.Progress.WriteLine(
            $"SENTINEL FAILOVER under load: {load}, {load.Checked} answers checked against a write, {load.StaleAsFresh} stale-as-fresh, {staleOnC.Count} of {Users} users stale-as-fresh on a node started after; "
            + $"sentinels named the new primary {switched.TotalSeconds:0.0} s after the command, the old primary replicated from it after {demoted.TotalSeconds:0.0} s; "
            + $"after the switch a write on A was read on B in {writeConverged.TotalSeconds:0.00} s, an invalidation on A (backplane only) left B's memory in {backplaneConverged.TotalSeconds:0.00} s");
        var backplane = $"backplane of A: {await BackplaneStatsAsync(a)}; of B: {await BackplaneStatsAsync(b)}";
        Assert.Multiple(() =>
        {
            Assert.That(load.Failed, Is.Zero, string.Join("\n", load.Failures.Take(5)) + "\n" + a.Output + b.Output);
            Assert.That(load.Sent, Is.GreaterThan(10), "the load ran through the failover at all");
            Assert.That(load.StaleAsFresh, Is.Zero, "answers not flagged stale that still showed a value overwritten before: " + string.Join("\n", load.StaleAnswers.Take(5)));
            Assert.That(load.Checked, Is.GreaterThan(0), "the load read the written users after their writes");
            Assert.That(staleOnC, Is.Empty, "a node started after the failover answered values overwritten before it as fresh");
            Assert.That(seen, Is.EqualTo("after-failover"), "a write on A after the failover is read on B within 5 s");
            Assert.That(cachedOnB, Is.EqualTo("memory"), "B had the user in memory before the invalidation");
            Assert.That(afterInvalidation, Is.EqualTo("computed"), "the invalidation on A reached B's memory and the new primary within 10 s; " + backplane);
        });
    }

    private static async Task<string> SourceAsync(HttpClient client, string userId)
    {
        using var response = await client.GetAsync(ReadUrl(userId));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var json = await JsonAsync(response);
        return json.GetProperty("cache_info").GetProperty("source").GetString()!;
    }

    private static async Task<string> BackplaneStatsAsync(ApiProcess node)
    {
        using var admin = AdminClient(node);
        using var response = await admin.GetAsync($"{ApiRoot}/calendar-generation/cache/stats");
        var json = await JsonAsync(response);
        return json.TryGetProperty("backplane", out var backplane) ? backplane.ToString() : json.ToString();
    }

    private static HttpClient AdminClient(ApiProcess node)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        return client;
    }

    private static async Task<bool> Pause()
    {
        await Task.Delay(20);
        return true;
    }
}
