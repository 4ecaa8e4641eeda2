using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

/// <summary>
/// A forced refresh is FusionCache's GetOrSet skipping both reads: concurrent ones queue on FusionCache's lock and share
/// a value read after they began, never one read before.
/// </summary>
public sealed class ForcedRefreshTests
{
    private sealed record Value(int Version);

    [Test]
    public async Task ForcedRefreshesArrivingDuringOneShareTheNextNotTheRunningOne()
    {
        await using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), TestRedis.Endpoint);
        var database = 1;
        var source = new Source<Value>(_ => new Value(Volatile.Read(ref database)));
        var began = new List<TaskCompletionSource>(Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)));
        source.Began += run => { if (run <= began.Count) began[run - 1].TrySetResult(); };
        Task<CachedAnswer<Value>> Force() => Task.Run(() => node.Reads.ReadAsync("k", source, Source<Value>.Run, forceRefresh: true).AsTask());

        source.Hold();
        var first = Force();
        await began[0].Task;
        // Written after the running refresh read the database: the 16 callers arriving now must see it.
        Volatile.Write(ref database, 2);
        var later = Enumerable.Range(0, 16).Select(_ => Force()).ToList();
        source.Release();
        var answers = await Task.WhenAll(later);

        Assert.That((await first).Value!.Version, Is.EqualTo(1));
        Assert.That(answers.Select(a => a.Value!.Version), Has.All.EqualTo(2), "no caller took the refresh that began before it");
        Assert.That(answers.Select(a => (a.Source, a.IsStale)), Has.All.EqualTo((CacheSource.Factory, false)));
        Assert.That(source.Runs, Is.EqualTo(2), "17 forced refreshes, two factory runs: the running one and the next");
    }

    [Test]
    public async Task AForcedRefreshAfterAWriteAnswersIt()
    {
        await using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), TestRedis.Endpoint);
        var database = 1;
        var source = new Source<Value>(_ => new Value(Volatile.Read(ref database)));
        await node.Reads.ReadAsync("k", source, Source<Value>.Run, forceRefresh: false);

        Volatile.Write(ref database, 2);
        var cached = await node.Reads.ReadAsync("k", source, Source<Value>.Run, forceRefresh: false);
        var forced = await node.Reads.ReadAsync("k", source, Source<Value>.Run, forceRefresh: true);
        var after = await node.Reads.ReadAsync("k", source, Source<Value>.Run, forceRefresh: false);

        Assert.That((cached.Value!.Version, cached.Source), Is.EqualTo((1, CacheSource.Memory)));
        Assert.That((forced.Value!.Version, forced.Source), Is.EqualTo((2, CacheSource.Factory)));
        Assert.That((after.Value!.Version, after.Source), Is.EqualTo((2, CacheSource.Memory)), "the forced value is cached for the next reads");
    }
}
