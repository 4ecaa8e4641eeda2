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
        await TestRedis.Eventually(() => node.Stats.BackplaneMessagesSent == 1, "the warm-up write reached Redis");

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
            "a 20 ms factory plus L1 work; a Redis timeout would cost seconds");
        Assert.That(node.Stats.DistributedAvailable, Is.False);
        Assert.That(node.Cache.PendingOperations, Is.GreaterThan(0));
    }

    [Test]
    public async Task ARedisErrorOpensTheCircuitBreakerForItsDurationAndLogsOncePerOpening()
    {
        var name = TestRedis.NewCacheName();
        var time = new FakeTimeProvider();
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o =>
        {
            o.TimeProvider = time;
            o.CircuitBreakerDuration = TimeSpan.FromSeconds(2);
        });
        // A list where an entry should be: the read script fails with WRONGTYPE, a real Redis error.
        await TestRedis.Database.ListLeftPushAsync(TestRedis.EntryKey(name, "bad"), "x");

        for (var i = 0; i < 10; i++)
        {
            var result = await node.Cache.GetOrSetAsync<int>("bad", static (_, _) => Task.FromResult(1),
                node.Cache.DefaultEntryOptions with { SkipMemoryCache = true });
            Assert.That(result.Value, Is.EqualTo(1));
        }
        var whileOpen = node.Stats;
        await node.Cache.TryGetAsync<int>("other");
        var afterOther = node.Stats;
        time.Advance(TimeSpan.FromSeconds(2));
        await node.Cache.TryGetAsync<int>("bad");

        Assert.That((whileOpen.DistributedErrors, whileOpen.CircuitBreakerOpenings, whileOpen.DistributedAvailable), Is.EqualTo((1, 1, false)),
            "one error opened the breaker; the nine calls after it did not touch Redis");
        Assert.That((afterOther.DistributedMisses, afterOther.DistributedErrors), Is.EqualTo((whileOpen.DistributedMisses, 1)), "no L2 read while open");
        Assert.That(node.Stats.CircuitBreakerOpenings, Is.EqualTo(2), "tried again after the break, failed, opened again");
        Assert.That(node.Logs.Count(LogLevel.Warning, "L2 and backplane paused"), Is.EqualTo(2));
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
    public async Task WritesMadeDuringAnOutageAreQueuedNewestWinsAndReplayedOnReconnect()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        using var node = await CacheNode.StartAsync(name, proxy.Endpoint, o => o.MaxPendingReplayOperations = 20);
        using var other = await CacheNode.StartAsync(name, TestRedis.Endpoint);

        proxy.Cut();
        await TestRedis.Eventually(() => !node.Connection.IsConnected, "the client noticed the cut");
        for (var i = 1; i <= 5; i++) await node.Cache.SetAsync("k", $"v{i}");
        var queuedForOneKey = node.Cache.PendingOperations;
        for (var i = 0; i < 50; i++) await node.Cache.SetAsync($"many{i}", i);
        var queuedAtBound = node.Cache.PendingOperations;
        proxy.Restore();
        await TestRedis.Eventually(() => node.Connection.IsConnected && node.Cache.PendingOperations == 0, "the queue was replayed", Reconnect);

        var seenByOther = await other.Cache.TryGetAsync<string>("k");
        Assert.That(queuedForOneKey, Is.EqualTo(2), "one L2 write and one backplane message for the key");
        Assert.That(queuedAtBound, Is.EqualTo(20));
        Assert.That((seenByOther.Value, seenByOther.Source), Is.EqualTo(("v5", CacheSource.Distributed)));
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

    [Test]
    public async Task ANodeWhosePubSubConnectionComesUpAfterItsCommandConnectionIsSubscribedOnceReady()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        proxy.HoldSubscriptions();
        var starting = CacheNode.StartAsync(name, proxy.Endpoint);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        proxy.ReleaseSubscriptions();
        using var node = await starting;
        Assert.That(node.Connection.IsConnected && node.Cache.IsBackplaneSubscribed, Is.True, "ready: connected and subscribed");

        // Ready means Redis counts the node as a subscriber: a message published right now reaches it.
        var receivers = await TestRedis.Database.PublishAsync(TestRedis.Channel(name), "S|0|another-node|k");

        Assert.That(receivers, Is.EqualTo(1), "Redis delivered the message to the node");
        await TestRedis.Eventually(() => node.Stats.BackplaneMessagesReceived >= 1, "the node handled the message");
        Assert.That(node.Stats.BackplaneMessagesReceived, Is.EqualTo(1), "handled once: the handler is registered once");
    }

    [Test]
    public async Task AHangingRedisCostsOneBoundedWaitThenNothingWhileTheBreakerIsOpen()
    {
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), proxy.Endpoint, o =>
        {
            o.DistributedOperationTimeout = TimeSpan.FromMilliseconds(300);
            o.CircuitBreakerDuration = TimeSpan.FromSeconds(30);
        });
        proxy.Frozen = true;

        var first = Stopwatch.StartNew();
        var firstResult = await node.Cache.GetOrSetAsync<int>("a", static (_, _) => Task.FromResult(1));
        first.Stop();
        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 10; i++)
        {
            var started = Stopwatch.GetTimestamp();
            await node.Cache.GetOrSetAsync<int>($"k{i}", static (_, _) => Task.FromResult(1));
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > slowest) slowest = elapsed;
        }

        Assert.That(firstResult.Value, Is.EqualTo(1));
        Assert.That(first.Elapsed, Is.InRange(TimeSpan.FromMilliseconds(290), TimeSpan.FromMilliseconds(800)),
            "the first read waits for DistributedOperationTimeout, not for a Redis timeout");
        Assert.That(slowest, Is.LessThan(TimeSpan.FromMilliseconds(150)), "with the breaker open no call waits on Redis (300 ms)");
        Assert.That(node.Stats.CircuitBreakerOpenings, Is.EqualTo(1));
    }

    [Test]
    public async Task AfterAReconnectAnOldL1EntryIsNotFreshButStillServesFailSafe()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        using var node = await CacheNode.StartAsync(name, proxy.Endpoint, o => o.BackgroundDistributedOperations = false);
        await node.Cache.SetAsync("k", "old");

        proxy.Cut();
        await TestRedis.Eventually(() => !node.Connection.IsConnected, "the client noticed the cut");
        var duringOutage = await node.Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("factory"));
        await TestRedis.Database.KeyDeleteAsync(TestRedis.EntryKey(name, "k"));
        proxy.Restore();
        await TestRedis.Eventually(() => node.Stats.DistributedAvailable, "reconnected", Reconnect);
        var failing = await node.Cache.GetOrSetAsync<string>("k", static (_, _) => throw new InvalidOperationException("db down"));
        var refreshed = await node.Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("new"),
            node.Cache.DefaultEntryOptions with { SkipCacheRead = true });

        Assert.That((duringOutage.Value, duringOutage.Source), Is.EqualTo(("old", CacheSource.Memory)), "L1 serves during the outage");
        Assert.That((failing.Value, failing.IsStale), Is.EqualTo(("old", true)), "expired by the reconnect, kept for fail-safe");
        Assert.That(refreshed.Value, Is.EqualTo("new"));
    }
}
