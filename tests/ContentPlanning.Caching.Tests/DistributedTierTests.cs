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
    public async Task AnL1EntryFilledFromL2LivesOnlyForTheRemainingLifetime()
    {
        var name = TestRedis.NewCacheName();
        var time = new FakeTimeProvider();
        void Configure(TieredCacheOptions o)
        {
            o.TimeProvider = time;
            o.Duration = TimeSpan.FromMinutes(10);
            o.BackgroundDistributedOperations = false;
        }
        using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, Configure);
        using var b = await CacheNode.StartAsync(name, TestRedis.Endpoint, Configure);
        await a.Cache.SetAsync("k", "v1");

        time.Advance(TimeSpan.FromMinutes(8));
        var fromL2 = await b.Cache.TryGetAsync<string>("k");
        time.Advance(TimeSpan.FromMinutes(3));
        var afterRemaining = await b.Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("v2"));

        Assert.That((fromL2.Value, fromL2.Source), Is.EqualTo(("v1", CacheSource.Distributed)));
        Assert.That((afterRemaining.Value, afterRemaining.Source), Is.EqualTo(("v2", CacheSource.Factory)));
    }

    [Test]
    public async Task TheL2EntryIsAnEnvelopeUnderAVersionedPrefixWithTheFailSafeLifetimeAsTtl()
    {
        var name = TestRedis.NewCacheName();
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o =>
        {
            o.Duration = TimeSpan.FromMinutes(5);
            o.FailSafeMaxDuration = TimeSpan.FromHours(1);
            o.BackgroundDistributedOperations = false;
        });

        await node.Cache.SetAsync("k", new Plan("Spring", 3), tags: ["plans"]);
        var key = TestRedis.EntryKey(name, "k");
        var raw = (string?)await TestRedis.Database.StringGetAsync(key);
        var ttl = await TestRedis.Database.KeyTimeToLiveAsync(key);

        Assert.That(raw, Does.StartWith("{\"exp\":\""));
        Assert.That(raw, Does.Contain("\"v\":1").And.Contain("\"tags\":[\"plans\"]").And.Contain("\"value\":{\"title\":\"Spring\",\"slots\":3}"));
        Assert.That(ttl, Is.Not.Null);
        Assert.That(ttl!.Value, Is.InRange(TimeSpan.FromMinutes(64), TimeSpan.FromMinutes(65)));
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

    [TestCase("not json at all")]
    [TestCase("{\"exp\":\"0000000000000000001\",\"created\":\"garbage\"}")]
    [TestCase("{\"something\":\"else\",\"value\":1}")]
    [TestCase("{\"exp\":\"9999999999999999999\",\"created\":\"0000000000000000001\",\"v\":1,\"fsexp\":\"9999999999999999999\",\"value\":\"a string, not an int\"}")]
    public async Task ACorruptOrForeignL2ValueIsAMissAndIsLogged(string stored)
    {
        var name = TestRedis.NewCacheName();
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint);
        await TestRedis.Database.StringSetAsync(TestRedis.EntryKey(name, "k"), Encoding.UTF8.GetBytes(stored));

        var tried = await node.Cache.TryGetAsync<int>("k");
        var result = await node.Cache.GetOrSetAsync<int>("k", static (_, _) => Task.FromResult(5));

        Assert.That(tried.HasValue, Is.False);
        Assert.That((result.Value, result.Source), Is.EqualTo((5, CacheSource.Factory)));
        Assert.That(node.Logs.Count(LogLevel.Warning, "corrupt or of a foreign format"), Is.EqualTo(2));
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
        var failSafe = await b.Cache.GetOrSetAsync<string>("expired", static (_, _) => throw new InvalidOperationException("db down"));

        Assert.That(removed.HasValue, Is.False);
        Assert.That(expired.HasValue, Is.False, "expired in L2");
        Assert.That((failSafe.Value, failSafe.IsStale, failSafe.Source), Is.EqualTo(("e", true, CacheSource.Distributed)),
            "an expired entry is kept for fail-safe");
    }

    [Test]
    public async Task AStaleL2ValueServesFailSafe()
    {
        var name = TestRedis.NewCacheName();
        var time = new FakeTimeProvider();
        void Configure(TieredCacheOptions o)
        {
            o.TimeProvider = time;
            o.Duration = TimeSpan.FromMinutes(1);
            o.BackgroundDistributedOperations = false;
        }
        using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, Configure);
        using var b = await CacheNode.StartAsync(name, TestRedis.Endpoint, Configure);
        await a.Cache.SetAsync("k", "old");

        time.Advance(TimeSpan.FromMinutes(5));
        var result = await b.Cache.GetOrSetAsync<string>("k", static (_, _) => throw new InvalidOperationException("db down"));

        Assert.That((result.Value, result.IsStale, result.Source), Is.EqualTo(("old", true, CacheSource.Distributed)));
        Assert.That(b.Stats.FailSafeActivations, Is.EqualTo(1));
    }

    [Test]
    public async Task DistributedCacheDurationGivesL2ItsOwnLifetime()
    {
        var name = TestRedis.NewCacheName();
        var time = new FakeTimeProvider();
        void Configure(TieredCacheOptions o)
        {
            o.TimeProvider = time;
            o.Duration = TimeSpan.FromMinutes(1);
            o.DistributedCacheDuration = TimeSpan.FromMinutes(10);
            o.BackgroundDistributedOperations = false;
        }
        using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, Configure);
        await a.Cache.SetAsync("k", "v");

        time.Advance(TimeSpan.FromMinutes(5));
        var afterL1Expiry = await a.Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("factory"));
        time.Advance(TimeSpan.FromMinutes(6));
        var afterL2Expiry = await a.Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("factory"));

        Assert.That((afterL1Expiry.Value, afterL1Expiry.Source), Is.EqualTo(("v", CacheSource.Distributed)));
        Assert.That((afterL2Expiry.Value, afterL2Expiry.Source), Is.EqualTo(("factory", CacheSource.Factory)));
    }

    [Test]
    public async Task AnExpireOrAWriteThatArrivesLateNeverReplacesANewerL2Entry()
    {
        var name = TestRedis.NewCacheName();
        var late = new FakeTimeProvider();
        var now = new FakeTimeProvider(late.GetUtcNow() + TimeSpan.FromSeconds(10));
        using var behind = await CacheNode.StartAsync(name, TestRedis.Endpoint, o =>
        {
            o.TimeProvider = late;
            o.BackgroundDistributedOperations = false;
            o.BackplaneEnabled = false;
        });
        using var current = await CacheNode.StartAsync(name, TestRedis.Endpoint, o =>
        {
            o.TimeProvider = now;
            o.BackgroundDistributedOperations = false;
            o.BackplaneEnabled = false;
        });
        await current.Cache.SetAsync("k", "newer");

        // Both carry times from before the newer entry was written, as a replay after an outage does.
        await behind.Cache.ExpireAsync("k");
        await behind.Cache.SetAsync("k", "older");
        current.Cache.ClearMemory();
        var read = await current.Cache.TryGetAsync<string>("k");

        Assert.That((read.Value, read.Source), Is.EqualTo(("newer", CacheSource.Distributed)));
    }
}
