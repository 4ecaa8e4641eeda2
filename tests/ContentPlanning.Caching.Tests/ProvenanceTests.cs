using ContentPlanning.Caching.Tests.Support;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching.Tests;

/// <summary>What <see cref="CachedRead"/> adds to FusionCache: where each answer came from and whether it is stale.</summary>
public sealed class ProvenanceTests
{
    private sealed record Value(int Version);

    private static Task<CachedAnswer<Value>> ReadAsync(CacheNode node, string key, Source<Value> source, bool force = false,
        FusionCacheEntryOptions? options = null, string[]? tags = null) =>
        node.Reads.ReadAsync(key, source, Source<Value>.Run, force, options, tags).AsTask();

    [Test]
    public async Task AMissIsTheFactoryThenMemoryThenOnAnotherNodeRedis()
    {
        var name = TestRedis.NewCacheName();
        await using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        await using var b = await CacheNode.StartAsync(name, TestRedis.Endpoint);
        var source = new Source<Value>(run => new Value(run));

        var first = await ReadAsync(a, "k", source);
        var second = await ReadAsync(a, "k", source);
        var onB = await ReadAsync(b, "k", source);
        var againOnB = await ReadAsync(b, "k", source);

        Assert.That((first.Source, first.IsCached, first.IsStale), Is.EqualTo((CacheSource.Factory, false, false)));
        Assert.That((second.Source, second.Value!.Version), Is.EqualTo((CacheSource.Memory, 1)));
        Assert.That((onB.Source, onB.Value!.Version, onB.IsStale), Is.EqualTo((CacheSource.Redis, 1, false)));
        Assert.That(againOnB.Source, Is.EqualTo(CacheSource.Memory));
        Assert.That(onB.CachedAt, Is.EqualTo(first.CachedAt), "cached_at travels with the value");
        Assert.That(source.Runs, Is.EqualTo(1));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task SixtyFourConcurrentColdReadsOnOneNodeRunTheFactoryOnceAndNoAnswerSaysRedis(bool withRedis)
    {
        await using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), withRedis ? TestRedis.Endpoint : null);
        var source = new Source<Value>(run => new Value(run));
        source.Hold();
        var began = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.Began += _ => began.TrySetResult();

        var reads = Enumerable.Range(0, 64).Select(_ => Task.Run(() => ReadAsync(node, "cold", source))).ToList();
        await began.Task;
        source.Release();
        var answers = await Task.WhenAll(reads);

        Assert.That(source.Runs, Is.EqualTo(1));
        Assert.That(answers.Select(a => a.Source), Has.None.EqualTo(CacheSource.Redis));
        Assert.That(answers.Count(a => a.Source == CacheSource.Factory), Is.GreaterThanOrEqualTo(1));
        Assert.That(answers.Select(a => a.IsStale), Has.All.False);
        Assert.That(answers.Select(a => a.Value!.Version), Has.All.EqualTo(1));
    }

    [Test]
    public async Task AFailingFactoryWithAnOldValueIsAnsweredStaleAndTheThrottleKeepsItStale()
    {
        await using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), null);
        var options = node.Reads.DefaultEntryOptions.Duplicate();
        options.Duration = TimeSpan.FromMilliseconds(200);
        options.FailSafeThrottleDuration = TimeSpan.FromMinutes(1);
        var good = new Source<Value>(run => new Value(run));
        var failing = new Source<Value>(_ => throw new InvalidOperationException("database down"));

        var fresh = await ReadAsync(node, "k", good, options: options);
        await TestRedis.Eventually(async () => (await ReadAsync(node, "k", failing, options: options)).IsStale, "the value expired and the factory failed");
        var throttled = await ReadAsync(node, "k", failing, options: options);

        Assert.That(fresh.IsStale, Is.False);
        Assert.That((throttled.Value!.Version, throttled.IsStale), Is.EqualTo((1, true)), "served again from L1 during the throttle, still flagged stale");
        Assert.That(throttled.CachedAt, Is.EqualTo(fresh.CachedAt));
    }

    [Test]
    public async Task ASoftTimeoutAnswersTheOldValueStaleAndTheFactoryStillUpdatesTheCache()
    {
        await using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), null);
        var options = node.Reads.DefaultEntryOptions.Duplicate();
        options.Duration = TimeSpan.FromMilliseconds(100);
        options.FactorySoftTimeout = TimeSpan.FromMilliseconds(50);
        var source = new Source<Value>(run => new Value(run));
        await ReadAsync(node, "k", source, options: options);
        await TestRedis.Eventually(async () =>
        {
            source.Hold();
            var answer = await ReadAsync(node, "k", source, options: options);
            return answer.IsStale && answer.Value!.Version == 1;
        }, "a slow refresh answered the old value, flagged stale");

        source.Release();
        await TestRedis.Eventually(async () => (await ReadAsync(node, "k", source, options: options)).Value!.Version > 1, "the refresh completed in the background");
    }

    [Test]
    public async Task ANotFoundAnswerIsKeptTheNotFoundDurationInEveryTier()
    {
        var name = TestRedis.NewCacheName();
        await using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o =>
        {
            o.BackgroundDistributedOperations = false;
            o.NotFoundDuration = TimeSpan.FromSeconds(7);
        });
        var nothing = new Source<Value>(_ => null!);

        var first = await ReadAsync(node, "missing", nothing);
        var second = await ReadAsync(node, "missing", nothing);
        var ttl = await TestRedis.Database.KeyTimeToLiveAsync(TestRedis.EntryKey(name, "missing"));

        Assert.That((first.Value, first.Source), Is.EqualTo(((Value?)null, CacheSource.Factory)));
        Assert.That((second.Value, second.Source), Is.EqualTo(((Value?)null, CacheSource.Memory)));
        Assert.That(ttl, Is.Not.Null.And.LessThanOrEqualTo(TimeSpan.FromSeconds(8)), "the Redis key outlives neither the answer nor its fail-safe");
    }

    [Test]
    public async Task TagsKnownOnlyFromTheValueEvictItOnEveryNode()
    {
        var name = TestRedis.NewCacheName();
        await using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        await using var b = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);
        var source = new Source<Value>(run => new Value(run));
        Task<CachedAnswer<Value>> Read(CacheNode node) =>
            node.Reads.ReadAsync("summary", source, Source<Value>.Run, false, tagsOf: static v => ["owner:" + v.Version]).AsTask();
        await Read(a);
        Assert.That((await Read(b)).Source, Is.EqualTo(CacheSource.Redis));

        await a.Cache.RemoveByTagAsync("owner:1");

        Assert.That((await Read(a)).Value!.Version, Is.EqualTo(2));
        await TestRedis.Eventually(async () => (await Read(b)).Value!.Version == 2, "B's L1 copy was evicted by the tag");
    }
}
