using System.Text;
using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.Logging;

namespace ContentPlanning.Caching.Tests;

public sealed class DistributedTierTests
{
    private sealed record Plan(string Title, int Slots);

    [Test]
    public async Task AValueSetOnOneNodeIsReadFromL2ByAnotherThenFromItsL1()
    {
        var name = TestRedis.NewCacheName();
        using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        using var b = await CacheNode.StartAsync(name, TestRedis.Endpoint);
        await a.Cache.SetAsync("plan", new Plan("Spring", 3));

        var first = await b.Cache.GetOrSetAsync<Plan>("plan", static (_, _) => throw new InvalidOperationException("must not run"));
        var second = await b.Cache.GetOrSetAsync<Plan>("plan", static (_, _) => throw new InvalidOperationException("must not run"));

        Assert.That((first.Value, first.Source), Is.EqualTo((new Plan("Spring", 3), CacheSource.Distributed)));
        Assert.That((second.Value, second.Source), Is.EqualTo((new Plan("Spring", 3), CacheSource.Memory)));
        Assert.That(second.CachedAt, Is.EqualTo(first.CachedAt));
    }

    [Test]
    public async Task NamedCachesDoNotSeeEachOthersKeys()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        var firstName = TestRedis.NewCacheName();
        var first = node.Provider.GetCache(firstName);
        var second = node.Provider.GetCache(TestRedis.NewCacheName());

        await first.SetAsync("k", "first");
        await second.SetAsync("k", "second");
        first.ClearMemory();
        second.ClearMemory();
        var fromFirst = await first.TryGetAsync<string>("k");
        var fromSecond = await second.TryGetAsync<string>("k");

        Assert.That((fromFirst.Value, fromFirst.Source), Is.EqualTo(("first", CacheSource.Distributed)));
        Assert.That((fromSecond.Value, fromSecond.Source), Is.EqualTo(("second", CacheSource.Distributed)));
        Assert.That(node.Provider.GetCache(firstName), Is.SameAs(first));
        Assert.That(first.Name, Is.EqualTo(firstName));
    }

    [Test]
    public async Task SkipDistributedCacheKeepsTheValueOutOfRedis()
    {
        var name = TestRedis.NewCacheName();
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);

        await node.Cache.SetAsync("skipped", 1, node.Cache.DefaultEntryOptions with { SkipDistributedCache = true });
        await node.Cache.SetAsync("stored", 2);

        Assert.That(await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "skipped")), Is.False);
        Assert.That(await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "stored")), Is.True);
    }

    [Test]
    public async Task RemoveAndExpireReachL2()
    {
        var name = TestRedis.NewCacheName();
        using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        using var b = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackplaneEnabled = false);
        await a.Cache.SetAsync("removed", "r");
        await a.Cache.SetAsync("expired", "e");

        await a.Cache.RemoveAsync("removed");
        await a.Cache.ExpireAsync("expired");
        var removed = await b.Cache.TryGetAsync<string>("removed");
        var expired = await b.Cache.TryGetAsync<string>("expired");

        Assert.That(removed.HasValue, Is.False);
        Assert.That(expired.HasValue, Is.False, "expired in L2");
    }

}
