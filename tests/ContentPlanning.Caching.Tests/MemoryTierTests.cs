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
    public async Task TheMemorySizeLimitBoundsL1()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null, o => o.MemorySizeLimit = 10);

        for (var i = 0; i < 50; i++) await node.Cache.SetAsync($"k{i}", i);

        Assert.That(node.Stats.MemoryEntries, Is.LessThanOrEqualTo(10));
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
