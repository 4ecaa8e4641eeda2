using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

public sealed class MemoryTierTests
{
    private static readonly Func<FactoryContext<int>, CancellationToken, Task<int>> FortyTwo = static (_, _) => Task.FromResult(42);

    [Test]
    public async Task TheStateOverloadPassesStateToTheFactory()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);

        var result = await node.Cache.GetOrSetAsync<int, string>("k", 7, static (_, state, _) => Task.FromResult($"state {state}"));

        Assert.That(result.Value, Is.EqualTo("state 7"));
    }

    [Test]
    public async Task ANullValueIsCachedLikeAnyOther()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        var runs = 0;

        await node.Cache.GetOrSetAsync<string?>("k", (_, _) => { runs++; return Task.FromResult<string?>(null); });
        var second = await node.Cache.GetOrSetAsync<string?>("k", (_, _) => { runs++; return Task.FromResult<string?>("x"); });

        Assert.That((second.HasValue, second.Value, second.Source), Is.EqualTo((true, (string?)null, CacheSource.Memory)));
        Assert.That(runs, Is.EqualTo(1));
    }

    [Test]
    public async Task TheMemorySizeLimitIsAByteBudgetThatEntriesFilledByAFactoryAndFromL2Respect()
    {
        const long budget = 100_000;
        var name = TestRedis.NewCacheName();
        using var writer = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.MemorySizeLimit = budget);
        var tenKilobytes = new string('x', 10_000);

        for (var i = 0; i < 30; i++) await node.Cache.GetOrSetAsync<string>($"f{i}", (_, _) => Task.FromResult(tenKilobytes));
        var afterFactory = (node.Cache.MemoryBytes, node.Stats.MemoryEntries);
        for (var i = 0; i < 30; i++) await writer.Cache.SetAsync($"l2-{i}", tenKilobytes);
        node.Cache.ClearMemory();
        for (var i = 0; i < 30; i++) await node.Cache.GetOrSetAsync<string>($"l2-{i}", (_, _) => Task.FromResult("factory"));
        var afterL2 = (node.Cache.MemoryBytes, node.Stats.MemoryEntries);

        // 30 entries of ~10 kB each are 300 kB: a count-based limit would keep them all.
        Assert.That(afterFactory.MemoryBytes, Is.InRange(10_000, budget));
        Assert.That(afterFactory.MemoryEntries, Is.LessThanOrEqualTo(10));
        Assert.That(afterL2.MemoryBytes, Is.InRange(10_000, budget), "an L1 copy of an L2 entry is charged its bytes too");
        Assert.That(afterL2.MemoryEntries, Is.LessThanOrEqualTo(12));
    }

    [Test]
    public async Task SkipMemoryCacheNeitherReadsNorWritesL1()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        var skip = node.Cache.DefaultEntryOptions with { SkipMemoryCache = true };
        var runs = 0;

        await node.Cache.GetOrSetAsync<int>("k", (_, _) => Task.FromResult(++runs), skip);
        var second = await node.Cache.GetOrSetAsync<int>("k", (_, _) => Task.FromResult(++runs), skip);

        Assert.That(second.Value, Is.EqualTo(2));
        Assert.That(node.Stats.MemoryEntries, Is.Zero);
    }

    [Test]
    public async Task SkipCacheReadForcesARefreshAndStoresTheResult()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        await node.Cache.SetAsync("k", "old");

        var forced = await node.Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("new"),
            node.Cache.DefaultEntryOptions with { SkipCacheRead = true });
        var next = await node.Cache.TryGetAsync<string>("k");

        Assert.That((forced.Value, forced.Source), Is.EqualTo(("new", CacheSource.Factory)));
        Assert.That((next.Value, next.Source), Is.EqualTo(("new", CacheSource.Memory)));
    }

    [Test]
    public async Task ExpireKeepsTheValueForFailSafeButRunsTheFactoryNext()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        await node.Cache.SetAsync("k", "old");

        await node.Cache.ExpireAsync("k");
        var failing = await node.Cache.GetOrSetAsync<string>("k", static (_, _) => throw new InvalidOperationException("down"));
        await node.Cache.RemoveAsync("k");
        var afterRemove = await node.Cache.TryGetAsync<string>("k");

        Assert.That((failing.Value, failing.IsStale), Is.EqualTo(("old", true)));
        Assert.That(afterRemove.HasValue, Is.False);
    }

    [Test]
    public async Task ClearMemoryDropsOnlyThisNodesL1()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), TestRedis.Endpoint,
            o => o.BackgroundDistributedOperations = false);
        await node.Cache.SetAsync("k", "v");

        node.Cache.ClearMemory();
        var entriesAfterClear = node.Stats.MemoryEntries;
        var read = await node.Cache.TryGetAsync<string>("k");

        Assert.That(entriesAfterClear, Is.Zero);
        Assert.That((read.Value, read.Source), Is.EqualTo(("v", CacheSource.Distributed)));
    }

}
