using System.Diagnostics;
using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.Logging;

namespace ContentPlanning.Caching.Tests;

/// <summary>Redis "down" for one node only: it connects through a TCP proxy the test cuts and restores.</summary>
public sealed class OutageTests
{
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(20);

    [Test]
    public async Task WithRedisDownCallsSucceedFromL1AndTheFactoryWithoutWaitingOnRedis()
    {
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        var name = TestRedis.NewCacheName();
        using var node = await CacheNode.StartAsync(name, proxy.Endpoint);
        await node.Cache.SetAsync("warm", "w");
        await TestRedis.Eventually(() => node.Stats.BackplaneMessagesSent >= 1, "the warm-up write reached Redis");

        proxy.Cut();
        await TestRedis.Eventually(() => !node.Connection.IsConnected, "the client noticed the cut");

        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var hit = await node.Cache.GetOrSetAsync<string>("warm", static (_, _) => throw new InvalidOperationException("must not run"));
            var miss = await node.Cache.GetOrSetAsync<int>($"cold{i}", static async (_, _) => { await Task.Delay(20); return 1; });
            await node.Cache.SetAsync($"set{i}", i);
            await node.Cache.RemoveAsync($"removed{i}");
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > slowest) slowest = elapsed;
            Assert.That((hit.Value, miss.Value), Is.EqualTo(("w", 1)));
        }

        Assert.That(slowest, Is.LessThan(TimeSpan.FromMilliseconds(250)),
            "a 20 ms factory plus L1 work; a queued Redis command would cost the L2 timeout or seconds");
        Assert.That(node.Stats.DistributedAvailable, Is.False);
    }

    [Test]
    public async Task WritesMadeDuringAnOutageAreReplayedOnReconnectNewestWins()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        using var node = await CacheNode.StartAsync(name, proxy.Endpoint);
        using var other = await CacheNode.StartAsync(name, TestRedis.Endpoint);

        proxy.Cut();
        await TestRedis.Eventually(() => !node.Connection.IsConnected, "the client noticed the cut");
        for (var i = 1; i <= 5; i++) await node.Cache.SetAsync("k", $"v{i}");
        proxy.Restore();

        // FusionCache's auto-recovery replays the newest write per key once the backplane reports the reconnect.
        await TestRedis.Eventually(async () => (await other.Cache.TryGetAsync<string>("k")).Value == "v5", "the write was replayed", Reconnect);
        var seenByOther = await other.Cache.TryGetAsync<string>("k");
        Assert.That((seenByOther.Value, seenByOther.IsStale), Is.EqualTo(("v5", false)));
    }

    [Test]
    public async Task ANodeThatMissedARemovalNeverServesTheRemovedValueAsFreshAfterItReconnects()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint);
        using var b = await CacheNode.StartAsync(name, proxy.Endpoint);
        await a.Cache.SetAsync("removed", "old", tags: ["t"]);
        await a.Cache.SetAsync("by-tag", "old", tags: ["plan:9"]);
        await a.Cache.SetAsync("changed", "old");
        await TestRedis.Eventually(async () => await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "changed")), "A's writes reached L2");
        foreach (var key in new[] { "removed", "by-tag", "changed" })
        {
            Assert.That((await b.Cache.GetOrSetAsync<string>(key, static (_, _) => Task.FromResult("factory"))).Value, Is.EqualTo("old"));
        }

        proxy.Cut();
        await TestRedis.Eventually(() => !b.Connection.IsConnected, "B noticed the cut");
        await a.Cache.RemoveAsync("removed");
        await a.Cache.RemoveByTagAsync("plan:9");
        await a.Cache.SetAsync("changed", "new");
        await TestRedis.Eventually(() => a.Stats.BackplaneMessagesSent >= 6, "A published while B could not hear");
        proxy.Restore();
        await TestRedis.Eventually(() => b.Connection.IsConnected && b.Stats.DistributedAvailable, "B reconnected", Reconnect);

        var removed = await b.Cache.GetOrSetAsync<string>("removed", static (_, _) => Task.FromResult("factory"));
        var byTag = await b.Cache.GetOrSetAsync<string>("by-tag", static (_, _) => Task.FromResult("factory"));
        var changed = await b.Cache.GetOrSetAsync<string>("changed", static (_, _) => Task.FromResult("factory"));

        Assert.That((removed.Value, removed.Source), Is.EqualTo(("factory", CacheSource.Factory)));
        Assert.That((byTag.Value, byTag.Source), Is.EqualTo(("factory", CacheSource.Factory)));
        Assert.That((changed.Value, changed.Source), Is.EqualTo(("new", CacheSource.Distributed)));
    }

    [Test]
    public async Task ARedisThatIsDownAtStartIsUsedOnceItComesUp()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        proxy.Cut();
        using var node = await CacheNode.StartAsync(name, proxy.Endpoint + ",connectTimeout=500");
        var during = await node.Cache.GetOrSetAsync<int>("k", static (_, _) => Task.FromResult(1));

        proxy.Restore();
        await TestRedis.Eventually(() => node.Connection.IsConnected && node.Cache.IsBackplaneSubscribed, "connected and subscribed", Reconnect);
        await TestRedis.Eventually(async () => await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "k")),
            "the write made while Redis was down was replayed", Reconnect);
        // "Subscribed" must mean subscribed on the server: the node hears another node's messages, once each.
        using var other = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        await other.Cache.SetAsync("from-other", 2);
        await TestRedis.Eventually(() => node.Stats.BackplaneMessagesReceived >= 1, "the node got a message from another node");
        await other.Cache.SetAsync("from-other", 3);
        await TestRedis.Eventually(() => node.Stats.BackplaneMessagesReceived >= 2, "the node got the second message");

        Assert.That(during.Value, Is.EqualTo(1));
        Assert.That(node.Stats.BackplaneMessagesReceived, Is.EqualTo(2), "each message handled once");
    }

}
