using System.Text.Json;
using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

/// <summary>
/// Fail-safe, timeouts and provenance (source, is_stale) of the FusionCache-backed cache, on FusionCache's own clock:
/// short real durations, no fake time (FusionCache does not take a TimeProvider).
/// </summary>
public sealed class FailSafeAndProvenanceTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(300);

    private static Task<CacheNode> Node(string name, string? redis = null, Action<TieredCacheOptions>? configure = null) =>
        CacheNode.StartAsync(name, redis, o =>
        {
            o.Duration = Short;
            o.FailSafeMaxDuration = TimeSpan.FromMinutes(5);
            o.FailSafeThrottleDuration = TimeSpan.FromSeconds(30);
            o.BackgroundDistributedOperations = false;
            configure?.Invoke(o);
        });

    [Test]
    public async Task AMissIsTheFactoryThenL1ThenOnAnotherNodeL2()
    {
        var name = TestRedis.NewCacheName();
        using var a = await Node(name, TestRedis.Endpoint, o => o.Duration = TimeSpan.FromMinutes(1));
        using var b = await Node(name, TestRedis.Endpoint, o => o.Duration = TimeSpan.FromMinutes(1));

        var first = await a.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("v"));
        var second = await a.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("other"));
        var onB = await b.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("other"));

        Assert.That((first.Value, first.Source, first.IsStale), Is.EqualTo(("v", CacheSource.Factory, false)));
        Assert.That((second.Value, second.Source, second.IsStale), Is.EqualTo(("v", CacheSource.Memory, false)));
        Assert.That((onB.Value, onB.Source, onB.IsStale), Is.EqualTo(("v", CacheSource.Distributed, false)));
        Assert.That(onB.CachedAt, Is.EqualTo(first.CachedAt), "the production time travels with the value");
    }

    [Test]
    public async Task AThrowingFactoryWithAStaleValueServesItMarkedStaleAndTheThrottleKeepsItStale()
    {
        using var node = await Node(TestRedis.NewCacheName());
        await node.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("old"));
        await Task.Delay(Short * 2);

        var calls = 0;
        var served = await node.Cache.GetOrSetAsync<string>("k", (_, _) => { calls++; throw new InvalidOperationException("db down"); });
        var throttled = await node.Cache.GetOrSetAsync<string>("k", (_, _) => { calls++; throw new InvalidOperationException("db down"); });

        Assert.That((served.Value, served.IsStale, served.Source), Is.EqualTo(("old", true, CacheSource.Distributed)));
        Assert.That((throttled.Value, throttled.IsStale), Is.EqualTo(("old", true)), "a fail-safe value stays stale during the throttle");
        Assert.That(calls, Is.EqualTo(1), "the throttle holds the factory off");
    }

    [Test]
    public void WithoutAStaleValueTheFactoryExceptionSurfaces()
    {
        Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            using var node = await Node(TestRedis.NewCacheName());
            await node.Cache.GetOrSetAsync<string>("k", (_, _) => throw new InvalidOperationException("db down"));
        });
    }

    [Test]
    public async Task WithFailSafeDisabledTheExceptionSurfacesEvenWithAStaleValue()
    {
        using var node = await Node(TestRedis.NewCacheName(), configure: o => o.IsFailSafeEnabled = false);
        await node.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("old"));
        await Task.Delay(Short * 2);

        Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await node.Cache.GetOrSetAsync<string>("k", (_, _) => throw new InvalidOperationException("db down")));
    }

    [Test]
    public async Task ASoftTimeoutAnswersStaleAndTheFactoryStillUpdatesTheCache()
    {
        using var node = await Node(TestRedis.NewCacheName(), configure: o => o.FactorySoftTimeout = TimeSpan.FromMilliseconds(100));
        await node.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("old"));
        await Task.Delay(Short * 2);

        var released = new TaskCompletionSource();
        var served = await node.Cache.GetOrSetAsync<string>("k", async (_, _) => { await released.Task; return "new"; });
        released.SetResult();

        Assert.That((served.Value, served.IsStale), Is.EqualTo(("old", true)));
        await TestRedis.Eventually(async () => (await node.Cache.TryGetAsync<string>("k")).Value == "new", "the slow factory's value is cached");
    }

    [Test]
    public void AHardTimeoutWithoutAStaleValueThrowsFactoryTimeoutException()
    {
        Assert.ThrowsAsync<FactoryTimeoutException>(async () =>
        {
            using var node = await Node(TestRedis.NewCacheName(), configure: o => o.FactoryHardTimeout = TimeSpan.FromMilliseconds(100));
            await node.Cache.GetOrSetAsync<string>("k", async (_, ct) => { await Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None); return "late"; });
        });
    }

    [Test]
    public async Task UnderAStampedeExactlyOneCallerIsToldItsFactoryProducedTheValue()
    {
        var name = TestRedis.NewCacheName();
        using var node = await Node(name, TestRedis.Endpoint, o => o.Duration = TimeSpan.FromMinutes(1));
        var runs = 0;
        var gate = new TaskCompletionSource();
        var calls = Enumerable.Range(0, 64).Select(_ => Task.Run(async () => await node.Cache.GetOrSetAsync<string>("hot", async (_, _) =>
        {
            Interlocked.Increment(ref runs);
            await gate.Task;
            return "v";
        }))).ToArray();
        await Task.Delay(100);
        gate.SetResult();
        var results = await Task.WhenAll(calls);

        Assert.That(runs, Is.EqualTo(1));
        Assert.That(results.Count(r => r.Source == CacheSource.Factory), Is.EqualTo(1));
        Assert.That(results.All(r => r is { Value: "v", IsStale: false }), Is.True);
    }

    [Test]
    public async Task AnEntryExpiresAfterItsDurationAndAFactoryCanShortenItsOwnEntryOnly()
    {
        using var node = await Node(TestRedis.NewCacheName(), configure: o => o.Duration = TimeSpan.FromMinutes(1));
        await node.Cache.GetOrSetAsync<string>("short", (ctx, _) =>
        {
            ctx.Options = ctx.Options with { Duration = Short, FailSafeMaxDuration = Short };
            return Task.FromResult("s");
        });
        await node.Cache.GetOrSetAsync<string>("long", (_, _) => Task.FromResult("l"));
        await Task.Delay(Short * 2);

        var shortAgain = await node.Cache.GetOrSetAsync<string>("short", (_, _) => Task.FromResult("s2"));
        var longAgain = await node.Cache.GetOrSetAsync<string>("long", (_, _) => Task.FromResult("l2"));

        Assert.That((shortAgain.Value, shortAgain.Source), Is.EqualTo(("s2", CacheSource.Factory)));
        Assert.That((longAgain.Value, longAgain.Source), Is.EqualTo(("l", CacheSource.Memory)));
    }

    [Test]
    public async Task AValuePastItsFailSafeMaxDurationIsNotServed()
    {
        using var node = await Node(TestRedis.NewCacheName(), configure: o => o.FailSafeMaxDuration = Short);
        await node.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("old"));
        await Task.Delay(Short * 3);

        Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await node.Cache.GetOrSetAsync<string>("k", (_, _) => throw new InvalidOperationException("db down")));
    }

    [Test]
    public async Task AHardTimeoutWithAStaleValueServesItByFailSafe()
    {
        using var node = await Node(TestRedis.NewCacheName(), configure: o => o.FactoryHardTimeout = TimeSpan.FromMilliseconds(100));
        await node.Cache.GetOrSetAsync<string>("k", (_, _) => Task.FromResult("old"));
        await Task.Delay(Short * 2);

        var served = await node.Cache.GetOrSetAsync<string>("k", async (_, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None);
            return "late";
        });

        Assert.That((served.Value, served.IsStale), Is.EqualTo(("old", true)));
    }

    [Test]
    public async Task EagerRefreshAnswersTheCachedValueAndRefreshesInTheBackground()
    {
        using var node = await Node(TestRedis.NewCacheName(), configure: o =>
        {
            o.Duration = TimeSpan.FromSeconds(2);
            o.EagerRefreshThreshold = 0.25f;
        });
        var runs = 0;
        Task<string> Factory(FactoryContext<string> _, CancellationToken __) => Task.FromResult($"v{Interlocked.Increment(ref runs)}");
        await node.Cache.GetOrSetAsync<string>("k", Factory);
        await Task.Delay(TimeSpan.FromMilliseconds(800));

        var eager = await node.Cache.GetOrSetAsync<string>("k", Factory);
        await TestRedis.Eventually(() => Volatile.Read(ref runs) == 2, "the background refresh ran");
        await TestRedis.Eventually(async () => (await node.Cache.TryGetAsync<string>("k")).Value == "v2", "the refreshed value is cached");

        Assert.That((eager.Value, eager.IsStale), Is.EqualTo(("v1", false)));
    }

    [Test]
    public void TheSerializerWritesTheServicesJsonAndReadsItBack()
    {
        var serializer = new SystemTextJsonFusionCacheSerializer(new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        });
        var bytes = serializer.Serialize(new CacheEnvelope<Sample> { Value = new Sample("x", 3), CachedAt = 7, FreshUntil = 9 });
        var back = serializer.Deserialize<CacheEnvelope<Sample>>(bytes);

        Assert.That(System.Text.Encoding.UTF8.GetString(bytes), Does.Contain("\"user_name\":\"x\""));
        Assert.That((back!.Value, back.CachedAt, back.FreshUntil), Is.EqualTo((new Sample("x", 3), 7L, 9L)));
    }

    public sealed record Sample(string UserName, int Count);
}
