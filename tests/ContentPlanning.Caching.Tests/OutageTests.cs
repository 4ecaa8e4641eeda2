using System.Diagnostics;
using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

/// <summary>Redis "down" for one node only: it connects through a TCP proxy the test cuts and restores.</summary>
public sealed class OutageTests
{
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(20);

    private sealed record Value(string Text);

    private static Source<Value> Constant(string text) => new(_ => new Value(text));

    private static async Task<CachedAnswer<Value>> ReadAsync(CacheNode node, string key, Source<Value> source, string[]? tags = null) =>
        await node.Reads.ReadAsync(key, source, Source<Value>.Run, false, tags: tags);

    [Test]
    public async Task WithRedisDownReadsAndWritesSucceedWithoutWaitingOnRedis()
    {
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        await using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), proxy.Endpoint);
        await ReadAsync(node, "warm", Constant("w"));

        proxy.Cut();
        await TestRedis.Eventually(() => !node.Connection.IsConnected, "the client noticed the cut");

        var slowest = TimeSpan.Zero;
        for (var i = 0; i < 20; i++)
        {
            var started = Stopwatch.GetTimestamp();
            var hit = await ReadAsync(node, "warm", new Source<Value>(_ => throw new InvalidOperationException("must not run")));
            var miss = await ReadAsync(node, $"cold{i}", Constant("c"));
            await node.Cache.RemoveByTagAsync($"tag{i}");
            var elapsed = Stopwatch.GetElapsedTime(started);
            if (elapsed > slowest) slowest = elapsed;
            Assert.That((hit.Value!.Text, hit.Source, miss.Value!.Text, miss.Source), Is.EqualTo(("w", CacheSource.Memory, "c", CacheSource.Factory)));
        }

        // Generous for a loaded machine; a command queued on the dead socket would cost SE.Redis's 5 s timeout.
        Assert.That(slowest, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public async Task ANodeThatMissedInvalidationsNeverServesTheOldValuesAsFreshAfterItReconnects()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        await using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        await using var b = await CacheNode.StartAsync(name, proxy.Endpoint);
        await ReadAsync(a, "removed", Constant("old"));
        await ReadAsync(a, "by-tag", Constant("old"), ["plan:9"]);
        foreach (var key in new[] { "removed", "by-tag" })
        {
            Assert.That((await ReadAsync(b, key, Constant("factory"))).Source, Is.EqualTo(CacheSource.Redis));
        }

        proxy.Cut();
        await TestRedis.Eventually(() => !b.Connection.IsConnected, "B noticed the cut");
        await a.Cache.RemoveAsync("removed");
        await a.Cache.RemoveByTagAsync("plan:9");
        await TestRedis.Eventually(() => a.Counters.BackplaneMessagesSent >= 2, "A published while B could not hear");
        proxy.Restore();
        await TestRedis.Eventually(() => b.Connection.IsConnected, "B reconnected", Reconnect);

        // B missed both messages; after the reconnect it expired its L1, so each read re-validates.
        await TestRedis.Eventually(async () => (await ReadAsync(b, "removed", Constant("factory"))).Value!.Text == "factory", "B no longer serves the removed value", Reconnect);
        var byTag = await ReadAsync(b, "by-tag", Constant("factory"));
        Assert.That((byTag.Value!.Text, byTag.Source), Is.EqualTo(("factory", CacheSource.Factory)));
    }

    [Test]
    public async Task AWriteMadeDuringAnOutageIsReplayedToRedisOnReconnect()
    {
        var name = TestRedis.NewCacheName();
        using var proxy = new TcpProxy(TestRedis.Endpoint);
        proxy.Cut();
        await using var node = await CacheNode.StartAsync(name, proxy.Endpoint + ",connectTimeout=500");
        var during = await ReadAsync(node, "k", Constant("written-during-outage"));

        proxy.Restore();
        await TestRedis.Eventually(() => node.Connection.IsConnected, "connected", Reconnect);
        await TestRedis.Eventually(async () => await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "k")),
            "auto-recovery copied the value to Redis", Reconnect);
        await using var other = await CacheNode.StartAsync(name, TestRedis.Endpoint);
        var onOther = await ReadAsync(other, "k", Constant("factory"));

        Assert.That(during.Source, Is.EqualTo(CacheSource.Factory));
        Assert.That((onOther.Value!.Text, onOther.Source), Is.EqualTo(("written-during-outage", CacheSource.Redis)));
    }
}
