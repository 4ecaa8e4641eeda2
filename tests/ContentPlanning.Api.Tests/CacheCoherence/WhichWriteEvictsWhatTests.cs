using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching;
using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.CacheCoherence.ChangeNotificationTests;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;
using ActiveApi = ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.CacheCoherence;

/// <summary>
/// Issue 22: a write evicts only the answers built from what it changed (README "Which write evicts which answer"), and
/// the node that claims its change notification refreshes the user's answers once for the cluster, so the next read on
/// any node is a cache hit that shows the write. Two nodes, both listening, on the shared Redis and PostgreSQL.
/// </summary>
public sealed class WhichWriteEvictsWhatTests : DatabaseTest
{
    private static string Industry(JsonNode answer) => answer["data"]!["onboarding_data"]!["industry"]!.GetValue<string>();

    private static string StrategyName(JsonNode comprehensive) => comprehensive["data"]!["strategy_data"]!["strategy"]!["name"]!.GetValue<string>();

    private static string ActiveName(JsonObject active) => active["strategy"]!["name"]!.GetValue<string>();

    private static string CachedAt(JsonNode answer) => answer["cache_info"]!["cached_at"]!.ToJsonString();

    private static bool IsStale(JsonNode answer) => answer["cache_info"]!["is_stale"]!.GetValue<bool>();

    private static async Task PutProfileAsync(HttpClient client, string userId, string industry)
    {
        using var response = await client.PutAsJsonAsync($"{ActiveApi.Root}/users/{userId}/profile", new { industry });
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    private static async Task RenameStrategyAsync(HttpClient client, long id, string name)
    {
        var body = ActiveApi.EveryField();
        body["name"] = name;
        using var response = await ActiveApi.PutJsonAsync(client, $"{ActiveApi.Root}/strategies/{id}", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    /// <summary>Reads the active strategy until this node answers it from memory, and returns that answer.</summary>
    private static async Task<JsonObject> CachedActiveAsync(HttpClient client, string userId)
    {
        await ActiveApi.GetActiveAsync(client, userId);
        var hit = await ActiveApi.GetActiveAsync(client, userId);
        Assert.That(ActiveApi.Source(hit), Is.EqualTo("memory"));
        return hit;
    }

    private static async Task<JsonNode> CachedComprehensiveAsync(HttpClient client, string userId)
    {
        await GetAsync(client, userId);
        var hit = await GetAsync(client, userId);
        Assert.That(Source(hit), Is.EqualTo("memory"));
        return hit;
    }

    [Test]
    public async Task AProfileWriteThroughTheApiOrInSqlLeavesTheActiveStrategyCachedOnEveryNode()
    {
        await using var nodeA = await StartListeningNodeAsync("node-narrow-a");
        await using var nodeB = await StartListeningNodeAsync("node-narrow-b");
        using var a = nodeA.CreateClient();
        using var b = nodeB.CreateClient();
        await InsertProfileAsync("narrow", industry: "before");
        await InsertStrategyAsync("narrow", "Main", active: true);
        await SyncAsync(nodeA, nodeB);
        var before = new Dictionary<HttpClient, string>();
        foreach (var client in new[] { a, b })
        {
            before[client] = CachedAt(await CachedActiveAsync(client, "narrow"));
            await CachedComprehensiveAsync(client, "narrow");
        }

        await PutProfileAsync(a, "narrow", "api-write");
        await SyncAsync(nodeA, nodeB);
        await Testing.ExecuteAsync("UPDATE user_profiles SET industry = 'sql-write' WHERE user_id = 'narrow'");
        await SyncAsync(nodeA, nodeB);

        foreach (var (name, client) in new[] { ("node A", a), ("node B", b) })
        {
            var active = await ActiveApi.GetActiveAsync(client, "narrow");
            var comprehensive = await GetAsync(client, "narrow");
            Assert.That(ActiveApi.Source(active), Is.EqualTo("memory"), $"{name}: the profile writes evicted the active strategy");
            Assert.That(CachedAt(active), Is.EqualTo(before[client]), $"{name}: the active strategy was recomputed");
            Assert.That(Industry(comprehensive), Is.EqualTo("sql-write"), $"{name} answered from {Source(comprehensive)}");
            Assert.That(IsStale(comprehensive), Is.False);
        }
    }

    [Test]
    public async Task AStrategyWriteThroughTheApiOrInSqlMakesTheActiveStrategyAndTheComprehensiveDataNewOnEveryNode()
    {
        await using var nodeA = await StartListeningNodeAsync("node-strategy-a");
        await using var nodeB = await StartListeningNodeAsync("node-strategy-b");
        using var a = nodeA.CreateClient();
        using var b = nodeB.CreateClient();
        await InsertProfileAsync("renamed");
        var id = await InsertStrategyAsync("renamed", "Original", active: true);
        await SyncAsync(nodeA, nodeB);
        foreach (var client in new[] { a, b })
        {
            await CachedActiveAsync(client, "renamed");
            await CachedComprehensiveAsync(client, "renamed");
        }

        await RenameStrategyAsync(a, id, "Through the API");
        // The writing node shows its own write at once, before any notification.
        Assert.That(ActiveName(await ActiveApi.GetActiveAsync(a, "renamed")), Is.EqualTo("Through the API"));
        Assert.That(StrategyName(await GetAsync(a, "renamed")), Is.EqualTo("Through the API"));
        await SyncAsync(nodeA, nodeB);
        var apiWrite = new List<string>();
        foreach (var client in new[] { a, b })
        {
            apiWrite.Add(ActiveName(await ActiveApi.GetActiveAsync(client, "renamed")));
            apiWrite.Add(StrategyName(await GetAsync(client, "renamed")));
        }

        await Testing.ExecuteAsync("UPDATE content_strategies SET name = 'In SQL' WHERE id = @id", new { id });
        await SyncAsync(nodeA, nodeB);

        Assert.That(apiWrite, Is.All.EqualTo("Through the API"));
        foreach (var (name, client) in new[] { ("node A", a), ("node B", b) })
        {
            var active = await ActiveApi.GetActiveAsync(client, "renamed");
            var comprehensive = await GetAsync(client, "renamed");
            Assert.That(ActiveName(active), Is.EqualTo("In SQL"), $"{name}: active strategy from {ActiveApi.Source(active)}");
            Assert.That(StrategyName(comprehensive), Is.EqualTo("In SQL"), $"{name}: comprehensive data from {Source(comprehensive)}");
            Assert.That(IsStale(active) || IsStale(comprehensive), Is.False);
        }
    }

    [Test]
    public async Task AfterAWriteTheNextReadOnEitherNodeIsACacheHitShowingItAndTheClusterRefreshedOnce()
    {
        await using var nodeA = await StartListeningNodeAsync("node-refresh-a");
        await using var nodeB = await StartListeningNodeAsync("node-refresh-b");
        using var a = nodeA.CreateClient();
        using var b = nodeB.CreateClient();
        await InsertProfileAsync("refreshed", industry: "before");
        await InsertStrategyAsync("refreshed", "Main", active: true);
        await SyncAsync(nodeA, nodeB);
        foreach (var client in new[] { a, b })
        {
            await CachedComprehensiveAsync(client, "refreshed");
            await CachedActiveAsync(client, "refreshed");
        }

        foreach (var (write, industry) in new (Func<Task>, string)[]
                 {
                     (() => PutProfileAsync(a, "refreshed", "through-the-api"), "through-the-api"),
                     (() => Testing.ExecuteAsync("UPDATE user_profiles SET industry = 'in-sql' WHERE user_id = 'refreshed'"), "in-sql"),
                 })
        {
            var refreshes = Listener(nodeA).Refreshed + Listener(nodeB).Refreshed;
            await write();
            await SyncAsync(nodeA, nodeB);

            Assert.That(Listener(nodeA).Refreshed + Listener(nodeB).Refreshed - refreshes, Is.EqualTo(1), $"{industry}: refreshes in the cluster");
            foreach (var (name, client) in new[] { ("node A", a), ("node B", b) })
            {
                var answer = await GetAsync(client, "refreshed");
                Assert.That(Industry(answer), Is.EqualTo(industry), $"{name} answered from {Source(answer)}");
                // A cache tier, never an assembly from the sources: L1 or L2 hold the refreshed answer, or, when this node's
                // copy was expired by a tag marker newer than the refresh, the snapshot row the refresh wrote.
                Assert.That(Source(answer), Is.AnyOf("memory", "redis", "database_snapshot"), $"{name}: the next read after the {industry} write assembled the data");
                Assert.That(IsStale(answer), Is.False);
            }
        }
    }

    [Test]
    public async Task ANodeThatCannotHearTheBackplaneReportsItsCachedAnswersStale()
    {
        using var proxy = new TcpProxy(TestEnvironment.RedisConnectionString.Split(',')[0]);
        await using var node = new ApiFactory("node-deaf", new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = proxy.Endpoint });
        using var client = node.CreateClient();
        await InsertProfileAsync("deaf");
        var heard = await CachedComprehensiveAsync(client, "deaf");
        var redis = node.Services.GetRequiredService<RedisConnection>();

        proxy.Cut();
        var deadline = System.Diagnostics.Stopwatch.StartNew();
        while (redis.IsConnected)
        {
            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "the node never noticed Redis was gone");
            await Task.Delay(10);
        }

        var deaf = await GetAsync(client, "deaf");

        Assert.That(IsStale(heard), Is.False);
        Assert.That(Source(deaf), Is.EqualTo("memory"));
        Assert.That(IsStale(deaf), Is.True, "an answer from memory while the node cannot hear other nodes' writes");
    }
}
