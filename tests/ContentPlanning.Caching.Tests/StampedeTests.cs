using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

public sealed class StampedeTests
{
    [Test]
    public async Task AThousandConcurrentCallsOnAColdKeyRunTheFactoryOnce()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), TestRedis.Endpoint);
        var runs = 0;
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var calls = Enumerable.Range(0, 1000)
            .Select(_ => Task.Run(async () => await node.Cache.GetOrSetAsync<int>("cold", async (_, _) =>
            {
                Interlocked.Increment(ref runs);
                await release.Task;
                return 7;
            })))
            .ToArray();
        await TestRedis.Eventually(() => Volatile.Read(ref runs) > 0, "the factory started");
        await Task.Delay(50);
        release.SetResult();
        var results = await Task.WhenAll(calls);

        Assert.That(runs, Is.EqualTo(1));
        Assert.That(results.Select(r => r.Value), Is.All.EqualTo(7));
        Assert.That(results.Count(r => r.Source == CacheSource.Factory), Is.EqualTo(1));
    }

    [Test]
    public async Task ConcurrentCallersOfDifferentKeysDoNotWaitForEachOther()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        var blocked = new TaskCompletionSource<int>();

        var slow = node.Cache.GetOrSetAsync<int>("slow", (_, _) => blocked.Task).AsTask();
        var other = await node.Cache.GetOrSetAsync<int>("other", static (_, _) => Task.FromResult(2));

        Assert.That(other.Value, Is.EqualTo(2));
        Assert.That(slow.IsCompleted, Is.False);
        blocked.SetResult(1);
        Assert.That((await slow).Value, Is.EqualTo(1));
    }
}
