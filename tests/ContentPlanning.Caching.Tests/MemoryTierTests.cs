using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

public sealed class MemoryTierTests
{
    private static readonly Func<FactoryContext<int>, CancellationToken, Task<int>> FortyTwo = static (_, _) => Task.FromResult(42);

    [Test]
    public async Task AMissRunsTheFactoryAndTheNextCallIsAMemoryHit()
    {
        var time = new FakeTimeProvider();
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null, o => o.TimeProvider = time);
        var runs = 0;

        var first = await node.Cache.GetOrSetAsync<int>("k", (_, _) => Task.FromResult(++runs));
        time.Advance(TimeSpan.FromSeconds(10));
        var second = await node.Cache.GetOrSetAsync<int>("k", (_, _) => Task.FromResult(++runs));

        Assert.That(first, Is.EqualTo(new CacheResult<int>(1, true, CacheSource.Factory, false, first.CachedAt)));
        Assert.That(second, Is.EqualTo(new CacheResult<int>(1, true, CacheSource.Memory, false, first.CachedAt)));
        Assert.That(first.CachedAt, Is.EqualTo(time.GetUtcNow() - TimeSpan.FromSeconds(10)));
        Assert.That(runs, Is.EqualTo(1));
        Assert.That(node.Stats.MemoryHits, Is.EqualTo(1));
        Assert.That(node.Stats.FactoryExecutions, Is.EqualTo(1));
    }

    [Test]
    public async Task AnEntryExpiresAfterItsDuration()
    {
        var time = new FakeTimeProvider();
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null, o =>
        {
            o.TimeProvider = time;
            o.Duration = TimeSpan.FromMinutes(1);
        });
        var runs = 0;
        Task<int> Factory(FactoryContext<int> _, CancellationToken __) => Task.FromResult(++runs);

        await node.Cache.GetOrSetAsync<int>("k", Factory);
        time.Advance(TimeSpan.FromSeconds(59));
        var beforeExpiry = await node.Cache.GetOrSetAsync<int>("k", Factory);
        time.Advance(TimeSpan.FromSeconds(1));
        var afterExpiry = await node.Cache.GetOrSetAsync<int>("k", Factory);

        Assert.That((beforeExpiry.Value, beforeExpiry.Source), Is.EqualTo((1, CacheSource.Memory)));
        Assert.That((afterExpiry.Value, afterExpiry.Source), Is.EqualTo((2, CacheSource.Factory)));
    }

    [Test]
    public async Task AnL1HitAllocatesNothing()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        await node.Cache.GetOrSetAsync("k", FortyTwo);
        await node.Cache.SetAsync("s", "text");
        for (var i = 0; i < 100; i++)
        {
            _ = node.Cache.GetOrSetAsync("k", FortyTwo).Result;
            _ = node.Cache.TryGetAsync<string>("s").Result;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var sum = 0;
        for (var i = 0; i < 1000; i++)
        {
            var hit = node.Cache.GetOrSetAsync("k", FortyTwo);
            var tryHit = node.Cache.TryGetAsync<string>("s");
            if (!hit.IsCompletedSuccessfully || !tryHit.IsCompletedSuccessfully) Assert.Fail("a hit must complete synchronously");
            sum += hit.Result.Value + tryHit.Result.Value!.Length;
        }
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.That(sum, Is.EqualTo(1000 * 46));
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public async Task TheStateOverloadPassesStateToTheFactory()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);

        var result = await node.Cache.GetOrSetAsync<int, string>("k", 7, static (_, state, _) => Task.FromResult($"state {state}"));

        Assert.That(result.Value, Is.EqualTo("state 7"));
    }

    [Test]
    public async Task AFactoryCanShortenItsOwnEntryWithoutAffectingOtherCalls()
    {
        var time = new FakeTimeProvider();
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null, o =>
        {
            o.TimeProvider = time;
            o.Duration = TimeSpan.FromMinutes(10);
        });
        var shared = new CacheEntryOptions { Duration = TimeSpan.FromMinutes(10) };

        await node.Cache.GetOrSetAsync<string?>("empty", (ctx, _) =>
        {
            ctx.Options = ctx.Options with { Duration = TimeSpan.FromMinutes(1) };
            return Task.FromResult<string?>(null);
        }, shared);
        await node.Cache.GetOrSetAsync<string?>("full", static (_, _) => Task.FromResult<string?>("x"), shared);
        time.Advance(TimeSpan.FromMinutes(2));

        var empty = await node.Cache.TryGetAsync<string?>("empty");
        var full = await node.Cache.TryGetAsync<string?>("full");
        Assert.That(empty.HasValue, Is.False, "the factory shortened this entry's Duration to 1 minute");
        Assert.That((full.HasValue, full.Value), Is.EqualTo((true, "x")));
        Assert.That(shared.Duration, Is.EqualTo(TimeSpan.FromMinutes(10)));
        Assert.That(node.Cache.DefaultEntryOptions.Duration, Is.EqualTo(TimeSpan.FromMinutes(10)));
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
    public async Task JitterSpreadsExpiries()
    {
        var time = new FakeTimeProvider();
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null, o =>
        {
            o.TimeProvider = time;
            o.Duration = TimeSpan.FromMinutes(1);
            o.JitterMaxDuration = TimeSpan.FromMinutes(1);
        });

        for (var i = 0; i < 50; i++) await node.Cache.SetAsync($"k{i}", i);
        time.Advance(TimeSpan.FromSeconds(90));
        var alive = 0;
        for (var i = 0; i < 50; i++)
        {
            if ((await node.Cache.TryGetAsync<int>($"k{i}")).HasValue) alive++;
        }

        Assert.That(alive, Is.InRange(1, 49), "about half of the entries should outlive Duration by their jitter");
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
        var read = await node.Cache.TryGetAsync<string>("k");

        Assert.That(node.Stats.MemoryEntries, Is.LessThanOrEqualTo(1));
        Assert.That((read.Value, read.Source), Is.EqualTo(("v", CacheSource.Distributed)));
    }

    [Test]
    public async Task AValueOfAnotherTypeUnderTheSameKeyIsAMiss()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        await node.Cache.SetAsync("k", "text");

        var asInt = await node.Cache.TryGetAsync<int>("k");

        Assert.That(asInt.HasValue, Is.False);
    }
}
