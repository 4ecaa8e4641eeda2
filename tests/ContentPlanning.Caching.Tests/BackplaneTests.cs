using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

public sealed class BackplaneTests
{
    private string _name = null!;
    private CacheNode _a = null!;
    private CacheNode _b = null!;

    [SetUp]
    public async Task StartTwoNodes()
    {
        _name = TestRedis.NewCacheName();
        // Awaited writes, so "B reads right after A wrote" is deterministic; background writes are covered elsewhere.
        _a = await CacheNode.StartAsync(_name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        _b = await CacheNode.StartAsync(_name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        Assert.That(_a.Cache.IsBackplaneSubscribed && _b.Cache.IsBackplaneSubscribed, Is.True);
    }

    [TearDown]
    public void StopNodes()
    {
        _a.Dispose();
        _b.Dispose();
    }

    private static Task<T?> ReadOnB<T>(CacheNode node, string key, T fallback) =>
        node.Cache.GetOrSetAsync<T>(key, (_, _) => Task.FromResult(fallback)).AsTask().ContinueWith(t => (T?)t.Result.Value, TaskScheduler.Default);

    [Test]
    public async Task ASetOnOneNodeIsSeenByTheOthersNextRead()
    {
        await _a.Cache.SetAsync("k", "v1");
        Assert.That(await ReadOnB(_b, "k", "factory"), Is.EqualTo("v1"));

        await _a.Cache.SetAsync("k", "v2");

        await TestRedis.Eventually(async () => await ReadOnB(_b, "k", "factory") == "v2", "node B sees v2");
        Assert.That(_b.Stats.BackplaneMessagesReceived, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task ARemoveOnOneNodeReachesTheOther()
    {
        await _a.Cache.SetAsync("k", "v1");
        Assert.That(await ReadOnB(_b, "k", "factory"), Is.EqualTo("v1"));

        await _a.Cache.RemoveAsync("k");

        await TestRedis.Eventually(async () => await ReadOnB(_b, "k", "factory") == "factory", "node B lost the removed value");
    }

    [Test]
    public async Task ARemoveByTagOnOneNodeReachesTheOtherInL1AndL2()
    {
        await _a.Cache.SetAsync("tagged", "v1", tags: ["plan:1"]);
        await _a.Cache.SetAsync("other", "v1", tags: ["plan:2"]);
        Assert.That(await ReadOnB(_b, "tagged", "factory"), Is.EqualTo("v1"));
        Assert.That(await ReadOnB(_b, "other", "factory"), Is.EqualTo("v1"));

        await _a.Cache.RemoveByTagAsync("plan:1");

        await TestRedis.Eventually(async () => await ReadOnB(_b, "tagged", "factory") == "factory", "node B lost the tagged value");
        Assert.That(await ReadOnB(_b, "other", "factory"), Is.EqualTo("v1"));
        Assert.That(await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(_name, "other")), Is.True);
        await TestRedis.Eventually(async () => !await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(_name, "tagged")) ||
            (await ReadOnB(_b, "tagged", "x")) == "factory", "the tagged L2 entry is gone");
    }

    [Test]
    public async Task AClearOnOneNodeReachesTheOther()
    {
        await _a.Cache.SetAsync("k1", "v1");
        await _a.Cache.SetAsync("k2", "v2");
        Assert.That(await ReadOnB(_b, "k1", "factory"), Is.EqualTo("v1"));

        await _a.Cache.ClearAsync();

        await TestRedis.Eventually(async () => await ReadOnB(_b, "k1", "factory") == "factory", "node B lost k1");
        Assert.That(await ReadOnB(_b, "k2", "factory"), Is.EqualTo("factory"), "cleared in L2 too");
    }

    [Test]
    public async Task AnExpireOnOneNodeMakesTheOtherRefreshButKeepsTheValueForFailSafe()
    {
        await _a.Cache.SetAsync("k", "v1");
        Assert.That(await ReadOnB(_b, "k", "factory"), Is.EqualTo("v1"));

        await _a.Cache.ExpireAsync("k");
        await TestRedis.Eventually(() => _b.Stats.BackplaneMessagesReceived >= 2, "node B got the expire message");
        var result = await _b.Cache.GetOrSetAsync<string>("k", static (_, _) => throw new InvalidOperationException("db down"));

        Assert.That((result.Value, result.IsStale), Is.EqualTo(("v1", true)));
    }

    [Test]
    public async Task ANodeIgnoresItsOwnMessagesAndNeverReadsL2PerMessage()
    {
        await _b.Cache.SetAsync("k0", "v");
        var before = _b.Stats;

        for (var i = 0; i < 100; i++) await _a.Cache.SetAsync($"k{i}", i);
        await TestRedis.Eventually(() => _b.Stats.BackplaneMessagesReceived >= 100, "node B got 100 messages");
        var after = _b.Stats;

        // B's one message may arrive twice (a publish that timed out is replayed: delivery is at least once).
        Assert.That(_a.Stats.BackplaneMessagesReceived, Is.InRange(1, 2), "A received B's message, not its own 100");
        Assert.That(after.DistributedHits + after.DistributedMisses + after.DistributedErrors,
            Is.EqualTo(before.DistributedHits + before.DistributedMisses + before.DistributedErrors), "no L2 read per message");
        Assert.That(_a.Stats.BackplaneMessagesSent, Is.EqualTo(100));
    }

    [Test]
    public async Task SkipBackplaneSendsNoMessage()
    {
        await _a.Cache.SetAsync("k", "v1", _a.Cache.DefaultEntryOptions with { SkipBackplane = true });
        await _a.Cache.SetAsync("marker", "m");

        await TestRedis.Eventually(() => _b.Stats.BackplaneMessagesReceived >= 1, "node B got the marker message");
        Assert.That(_b.Stats.BackplaneMessagesReceived, Is.EqualTo(1));
        Assert.That(_a.Stats.BackplaneMessagesSent, Is.EqualTo(1));
    }

    [Test]
    public async Task WhenTheMessageArrivesTheNewValueIsAlreadyInL2()
    {
        using var writer = await CacheNode.StartAsync(_name, TestRedis.Endpoint);
        await _a.Cache.SetAsync("k", 0);

        for (var i = 1; i <= 20; i++)
        {
            Assert.That(await ReadOnB(_b, "k", -1), Is.EqualTo(i - 1));
            var received = _b.Stats.BackplaneMessagesReceived;
            _ = writer.Cache.SetAsync("k", i);
            await TestRedis.Eventually(() => _b.Stats.BackplaneMessagesReceived > received, "B got the message");

            Assert.That(await ReadOnB(_b, "k", -1), Is.EqualTo(i), "the first read after the message sees the write");
        }
    }
}
