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

}
