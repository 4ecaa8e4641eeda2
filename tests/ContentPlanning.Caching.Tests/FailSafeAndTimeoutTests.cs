using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

public sealed class FailSafeAndTimeoutTests
{
    private FakeTimeProvider _time = null!;
    private CacheNode _node = null!;

    [SetUp]
    public async Task StartNode()
    {
        _time = new FakeTimeProvider();
        _node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null, o =>
        {
            o.TimeProvider = _time;
            o.Duration = TimeSpan.FromMinutes(1);
            o.FailSafeMaxDuration = TimeSpan.FromHours(1);
            o.FailSafeThrottleDuration = TimeSpan.FromSeconds(30);
        });
    }

    [TearDown]
    public void StopNode() => _node.Dispose();

    private TieredCache Cache => _node.Cache;

    /// <summary>A value past its Duration (1 minute) but within its fail-safe lifetime.</summary>
    private async Task SeedExpiredAsync(string key, string value)
    {
        await Cache.SetAsync(key, value);
        _time.Advance(TimeSpan.FromMinutes(2));
    }

    [Test]
    public async Task AThrowingFactoryWithAStaleValueReturnsItMarkedStaleAndThrottlesRetries()
    {
        await SeedExpiredAsync("k", "old");
        var runs = 0;
        Task<string> Failing(FactoryContext<string> ctx, CancellationToken _)
        {
            runs++;
            Assert.That((ctx.HasStaleValue, ctx.StaleValue), Is.EqualTo((true, "old")));
            throw new InvalidOperationException("db down");
        }

        var first = await Cache.GetOrSetAsync<string>("k", Failing);
        _time.Advance(TimeSpan.FromSeconds(29));
        var throttled = await Cache.GetOrSetAsync<string>("k", Failing);
        _time.Advance(TimeSpan.FromSeconds(1));
        var retried = await Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("new"));

        Assert.That((first.Value, first.IsStale, first.HasValue), Is.EqualTo(("old", true, true)));
        Assert.That((throttled.Value, throttled.IsStale, throttled.Source), Is.EqualTo(("old", true, CacheSource.Memory)));
        Assert.That(runs, Is.EqualTo(1), "within the throttle duration the factory is not tried again");
        Assert.That((retried.Value, retried.IsStale, retried.Source), Is.EqualTo(("new", false, CacheSource.Factory)));
        Assert.That(_node.Stats.FailSafeActivations, Is.EqualTo(1));
        Assert.That(_node.Stats.FactoryErrors, Is.EqualTo(1));
    }

    [Test]
    public void WithoutAStaleValueTheFactoryExceptionSurfaces()
    {
        var thrown = Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Cache.GetOrSetAsync<string>("k", static (_, _) => throw new InvalidOperationException("db down")));

        Assert.That(thrown!.Message, Is.EqualTo("db down"));
    }

    [Test]
    public async Task AValuePastItsFailSafeMaxDurationIsNotServed()
    {
        await Cache.SetAsync("k", "old");
        _time.Advance(TimeSpan.FromMinutes(62));

        Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Cache.GetOrSetAsync<string>("k", static (_, _) => throw new InvalidOperationException("db down")));
    }

    [Test]
    public async Task WithFailSafeDisabledTheExceptionSurfacesEvenWithAStaleValue()
    {
        await SeedExpiredAsync("k", "old");

        Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await Cache.GetOrSetAsync<string>("k", static (_, _) => throw new InvalidOperationException("db down"),
                Cache.DefaultEntryOptions with { IsFailSafeEnabled = false }));
    }

    [Test]
    public async Task ASoftTimeoutReturnsTheStaleValueAndTheFactoryUpdatesTheCacheWhenItCompletes()
    {
        await SeedExpiredAsync("k", "old");
        var slow = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Cache.DefaultEntryOptions with { FactorySoftTimeout = TimeSpan.FromSeconds(1) };

        var call = Cache.GetOrSetAsync<string>("k", (_, _) => slow.Task, options).AsTask();
        Assert.That(call.IsCompleted, Is.False);
        _time.Advance(TimeSpan.FromSeconds(1));
        var result = await call;
        slow.SetResult("new");
        await TestRedis.Eventually(async () => (await Cache.TryGetAsync<string>("k")).Value == "new", "the background factory stored its value");

        Assert.That((result.Value, result.IsStale), Is.EqualTo(("old", true)));
        Assert.That(_node.Stats.FactoryTimeouts, Is.EqualTo(1));
        Assert.That(Cache.LiveKeyLocks, Is.Zero);
    }

    [Test]
    public void AHardTimeoutWithoutAStaleValueThrowsFactoryTimeoutException()
    {
        var never = new TaskCompletionSource<string>();
        var call = Cache.GetOrSetAsync<string>("k", (_, _) => never.Task,
            Cache.DefaultEntryOptions with { FactorySoftTimeout = TimeSpan.FromSeconds(1), FactoryHardTimeout = TimeSpan.FromSeconds(5) }).AsTask();

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(call.IsCompleted, Is.False, "a soft timeout needs a stale value");
        _time.Advance(TimeSpan.FromSeconds(4));

        Assert.ThrowsAsync<FactoryTimeoutException>(async () => await call);
    }

    [Test]
    public async Task AHardTimeoutWithAStaleValueServesItByFailSafe()
    {
        await SeedExpiredAsync("k", "old");
        var never = new TaskCompletionSource<string>();

        var call = Cache.GetOrSetAsync<string>("k", (_, _) => never.Task,
            Cache.DefaultEntryOptions with { FactoryHardTimeout = TimeSpan.FromSeconds(2) }).AsTask();
        _time.Advance(TimeSpan.FromSeconds(2));
        var result = await call;

        Assert.That((result.Value, result.IsStale), Is.EqualTo(("old", true)));
        Assert.That(_node.Stats.FailSafeActivations, Is.EqualTo(1));
    }

    [Test]
    public async Task AWaiterWithAStaleValueGetsItAfterTheSoftTimeoutWhileAnotherCallRunsTheFactory()
    {
        await SeedExpiredAsync("k", "old");
        var slow = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var options = Cache.DefaultEntryOptions with { FactorySoftTimeout = TimeSpan.FromSeconds(1) };

        var first = Cache.GetOrSetAsync<string>("k", (_, _) => slow.Task, options).AsTask();
        var second = Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("second"), options).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        var results = await Task.WhenAll(first, second);
        slow.SetResult("new");

        Assert.That(results.Select(r => (r.Value, r.IsStale)), Is.All.EqualTo(("old", true)));
    }

    [Test]
    public async Task EagerRefreshReturnsTheCachedValueAndRefreshesInTheBackgroundOnce()
    {
        var options = Cache.DefaultEntryOptions with { Duration = TimeSpan.FromMinutes(10), EagerRefreshThreshold = 0.5f };
        await Cache.GetOrSetAsync<string>("k", static (_, _) => Task.FromResult("v1"), options);
        var refreshes = 0;
        var refresh = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);

        _time.Advance(TimeSpan.FromMinutes(6));
        var hits = new List<CacheResult<string>>();
        for (var i = 0; i < 5; i++)
        {
            hits.Add(await Cache.GetOrSetAsync<string>("k", (_, _) => { Interlocked.Increment(ref refreshes); return refresh.Task; }, options));
        }
        refresh.SetResult("v2");
        await TestRedis.Eventually(async () => (await Cache.TryGetAsync<string>("k")).Value == "v2", "the eager refresh stored its value");

        Assert.That(hits.Select(h => (h.Value, h.Source, h.IsStale)), Is.All.EqualTo(("v1", CacheSource.Memory, false)));
        Assert.That(refreshes, Is.EqualTo(1));
        Assert.That(_node.Stats.EagerRefreshes, Is.EqualTo(1));
    }

    [Test]
    public async Task AFactoryThatTimedOutStillUpdatesTheCacheOnlyWhenBackgroundCompletionIsAllowed()
    {
        var allowed = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var forbidden = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var hard = Cache.DefaultEntryOptions with { FactoryHardTimeout = TimeSpan.FromSeconds(1) };

        var first = Cache.GetOrSetAsync<string>("allowed", (_, _) => allowed.Task, hard).AsTask();
        var second = Cache.GetOrSetAsync<string>("forbidden", (_, _) => forbidden.Task,
            hard with { AllowTimedOutFactoryBackgroundCompletion = false }).AsTask();
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.ThrowsAsync<FactoryTimeoutException>(async () => await first);
        Assert.ThrowsAsync<FactoryTimeoutException>(async () => await second);
        allowed.SetResult("late");
        forbidden.SetResult("late");
        await TestRedis.Eventually(async () => (await Cache.TryGetAsync<string>("allowed")).HasValue, "the allowed factory stored its value");

        Assert.That((await Cache.TryGetAsync<string>("allowed")).Value, Is.EqualTo("late"));
        Assert.That((await Cache.TryGetAsync<string>("forbidden")).HasValue, Is.False);
        Assert.That(Cache.LiveKeyLocks, Is.Zero);
    }
}
