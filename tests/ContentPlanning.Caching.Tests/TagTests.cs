using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

public sealed class TagTests
{
    [Test]
    public async Task RemoveByTagEvictsTaggedL1EntriesOnly()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        await node.Cache.SetAsync("a", 1, tags: ["x"]);
        await node.Cache.SetAsync("b", 2, tags: ["x", "y"]);
        await node.Cache.SetAsync("c", 3, tags: ["y"]);
        await node.Cache.GetOrSetAsync<int>("d", static (ctx, _) =>
        {
            ctx.Tags = ["x"];
            return Task.FromResult(4);
        });

        await node.Cache.RemoveByTagAsync("x");

        Assert.That((await node.Cache.TryGetAsync<int>("a")).HasValue, Is.False);
        Assert.That((await node.Cache.TryGetAsync<int>("b")).HasValue, Is.False);
        Assert.That((await node.Cache.TryGetAsync<int>("c")).Value, Is.EqualTo(3));
        Assert.That((await node.Cache.TryGetAsync<int>("d")).HasValue, Is.False, "tags added by the factory count");
    }

    [Test]
    public async Task TheTagIndexForgetsEvictedEntries()
    {
        using var node = await CacheNode.StartAsync(TestRedis.NewCacheName(), redis: null);
        await node.Cache.SetAsync("a", 1, tags: ["x"]);
        Assert.That(node.Cache.TagIndexCount, Is.EqualTo(1));

        await node.Cache.RemoveAsync("a");

        await TestRedis.Eventually(() => node.Cache.TagIndexCount == 0, "the eviction callback cleaned the index");
    }

    [Test]
    public async Task AnL2EntryWrittenBeforeItsTagsMarkerIsTreatedAsRemoved()
    {
        var name = TestRedis.NewCacheName();
        var time = new FakeTimeProvider();
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o =>
        {
            o.TimeProvider = time;
            o.BackgroundDistributedOperations = false;
        });
        var old = time.GetUtcNow().UtcTicks;
        // An entry another node wrote (or replayed) without knowing of the removal that happened later.
        var envelope = DistributedEnvelope.Write("old", old, old + TimeSpan.FromHours(1).Ticks, old + TimeSpan.FromHours(2).Ticks, ["x"],
            new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web));
        time.Advance(TimeSpan.FromSeconds(1));
        await node.Cache.RemoveByTagAsync("x");
        await TestRedis.Database.StringSetAsync(TestRedis.EntryKey(name, "k"), envelope);
        await TestRedis.Database.StringSetAsync(TestRedis.EntryKey(name, "untagged"),
            DistributedEnvelope.Write("kept", old, old + TimeSpan.FromHours(1).Ticks, old + TimeSpan.FromHours(2).Ticks, null,
                new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));

        var tagged = await node.Cache.TryGetAsync<string>("k");
        var untagged = await node.Cache.TryGetAsync<string>("untagged");

        Assert.That(tagged.HasValue, Is.False);
        Assert.That(untagged.Value, Is.EqualTo("kept"));
    }

    [Test]
    public async Task AnL2EntryWrittenBeforeAClearIsTreatedAsRemoved()
    {
        var name = TestRedis.NewCacheName();
        var time = new FakeTimeProvider();
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o =>
        {
            o.TimeProvider = time;
            o.BackgroundDistributedOperations = false;
        });
        await node.Cache.SetAsync("before", "old");
        time.Advance(TimeSpan.FromSeconds(1));

        await node.Cache.ClearAsync();
        time.Advance(TimeSpan.FromSeconds(1));
        await node.Cache.SetAsync("after", "new");
        node.Cache.ClearMemory();

        Assert.That(await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "before")), Is.True, "clear is lazy in L2");
        Assert.That((await node.Cache.TryGetAsync<string>("before")).HasValue, Is.False);
        Assert.That((await node.Cache.TryGetAsync<string>("after")).Value, Is.EqualTo("new"));
    }
}
