using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

/// <summary>Cache__DistributedLocker__Enabled: FusionCache's Redis locker makes a cold key's factory run once in the cluster.</summary>
public sealed class DistributedLockerTests
{
    private sealed record Value(int Version);

    [TestCase(true, 1)]
    [TestCase(false, 2)]
    public async Task TwoNodesReadingOneColdKeyAtOnceRunTheFactory(bool locker, int expectedRuns)
    {
        var name = TestRedis.NewCacheName();
        void Configure(CacheSettings o)
        {
            o.DistributedLocker.Enabled = locker;
            o.BackgroundDistributedOperations = false;
        }

        await using var a = await CacheNode.StartAsync(name, TestRedis.Endpoint, Configure);
        await using var b = await CacheNode.StartAsync(name, TestRedis.Endpoint, Configure);
        var source = new Source<Value>(run => new Value(run));
        var l2Misses = new[] { a, b }.Select(node =>
        {
            var missed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node.Cache.Events.Distributed.Miss += (_, e) => { if (e.Key.EndsWith("cold", StringComparison.Ordinal)) missed.TrySetResult(); };
            return missed.Task;
        }).ToList();
        source.Hold();
        var began = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        source.Began += _ => began.TrySetResult();

        var reads = new[] { a, b }
            .SelectMany(node => Enumerable.Range(0, 32).Select(_ => Task.Run(() => node.Reads.ReadAsync("cold", source, Source<Value>.Run, false).AsTask())))
            .ToList();
        await began.Task;
        if (!locker)
        {
            // Without the locker each node runs its own factory: wait for the second so the count does not race.
            await TestRedis.Eventually(() => source.Runs == 2, "each node ran its factory");
        }
        else
        {
            // Both nodes found L2 empty while the first factory is held: the other one is at the lock now.
            await Task.WhenAll(l2Misses);
        }

        source.Release();
        var answers = await Task.WhenAll(reads);

        Assert.That(source.Runs, Is.EqualTo(expectedRuns));
        Assert.That(answers.Select(x => x.Value!.Version), locker ? Has.All.EqualTo(1) : Has.All.InRange(1, 2));
        if (locker)
        {
            Assert.That(answers.Count(x => x.Source == CacheSource.Redis), Is.GreaterThanOrEqualTo(1), "the node that waited read the value from Redis");
        }
    }
}
