using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheAdmin;

public sealed class InvalidateUserCacheTests : DatabaseTest
{
    [Test]
    public async Task InvalidatingOnNodeAEmptiesNodeBsMemoryAndDeletesTheSnapshotRows()
    {
        await using var nodeB = await CacheCoherence.ChangeNotificationTests.StartListeningNodeAsync("node-b");
        using var clientB = nodeB.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        await SeedCompleteUserAsync("shared");
        // The seed's own change notifications reach node B's listener asynchronously: let them land before B caches
        // anything, or one of them evicts the answer this test expects in B's memory.
        await CacheCoherence.ChangeNotificationTests.SyncAsync(nodeB);
        await GetAsync(clientB, "shared");
        var cachedOnB = await GetAsync(clientB, "shared");

        var removed = await InvalidateAsync(admin, "shared");
        var rowsLeft = await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache WHERE user_id = 'shared'");
        var (nextOnB, elapsed) = await FirstAnswerNotFromMemoryAsync(clientB, "shared", TimeSpan.FromSeconds(1));

        Assert.That(Source(cachedOnB), Is.EqualTo("memory"));
        Assert.That(removed["user_id"]!.GetValue<string>(), Is.EqualTo("shared"));
        Assert.That(removed["snapshot_rows_deleted"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(rowsLeft, Is.Zero);
        Assert.That(nextOnB, Is.Not.Null, $"node B still answered from memory {elapsed.TotalMilliseconds:F0} ms after the invalidation");
        Assert.That(Source(nextOnB!), Is.EqualTo("computed"), "neither Redis nor the snapshot table may still hold the entry");
    }

    [Test]
    public async Task WithAStrategyIdOnlyThatStrategyAndTheResolvedEntryAreRemoved()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        await InsertProfileAsync("partial");
        var first = await InsertStrategyAsync("partial", "First", active: true);
        var second = await InsertStrategyAsync("partial", "Second");
        await GetAsync(client, "partial");
        await GetAsync(client, "partial", first);
        await GetAsync(client, "partial", second);

        var removed = await InvalidateAsync(admin, $"partial?strategy_id={first}");
        var resolved = await GetAsync(client, "partial");
        var firstAgain = await GetAsync(client, "partial", first);
        var secondAgain = await GetAsync(client, "partial", second);

        Assert.That(removed["strategy_id"]!.GetValue<long>(), Is.EqualTo(first));
        Assert.That(removed["snapshot_rows_deleted"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(Source(resolved), Is.EqualTo("computed"));
        Assert.That(Source(firstAgain), Is.EqualTo("computed"));
        Assert.That(Source(secondAgain), Is.EqualTo("memory"));
    }

    [Test]
    public async Task TheUserIdOfThePathIsTheOneInvalidated()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        await InsertProfileAsync("path-user");
        await InsertProfileAsync("query-user");
        await GetAsync(client, "path-user");
        await GetAsync(client, "query-user");

        var removed = await InvalidateAsync(admin, "path-user?user_id=query-user");

        Assert.That(removed["user_id"]!.GetValue<string>(), Is.EqualTo("path-user"));
        Assert.That(Source(await GetAsync(client, "path-user")), Is.EqualTo("computed"));
        Assert.That(Source(await GetAsync(client, "query-user")), Is.EqualTo("memory"));
    }

    [Test]
    public async Task AnInvalidUserIdIs400()
    {
        using var admin = CreateAdminClient(Testing.Factory);

        using var response = await admin.DeleteAsync($"{CacheRoot}/invalidate/bad%20id!");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    private static async Task<JsonNode> InvalidateAsync(HttpClient admin, string pathAndQuery)
    {
        using var response = await admin.DeleteAsync($"{CacheRoot}/invalidate/{pathAndQuery}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonNode.Parse(body)!;
    }

    /// <summary>Reads until an answer does not come from L1, for at most <paramref name="limit"/>; null if none did.</summary>
    private static async Task<(JsonNode? Answer, TimeSpan Elapsed)> FirstAnswerNotFromMemoryAsync(HttpClient client, string userId, TimeSpan limit)
    {
        var started = Stopwatch.GetTimestamp();
        do
        {
            var answer = await GetAsync(client, userId);
            if (Source(answer) != "memory")
            {
                return (answer, Stopwatch.GetElapsedTime(started));
            }

            await Task.Delay(10);
        }
        while (Stopwatch.GetElapsedTime(started) < limit);

        return (null, Stopwatch.GetElapsedTime(started));
    }
}
