using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.CacheCoherence;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheCoherence;

/// <summary>Writes made in SQL, outside the API, reach every node's cache through the version trigger's NOTIFY (issue 15).</summary>
public sealed class ChangeNotificationTests : DatabaseTest
{
    private static string Industry(JsonNode answer) => answer["data"]!["onboarding_data"]!["industry"]!.GetValue<string>();

    internal static UserChangeListener Listener(ApiFactory node) => node.Services.GetRequiredService<UserChangeListener>();

    /// <summary>
    /// Waits until both listeners handled everything notified so far (notifications arrive in commit order) and refreshed
    /// what they claimed.
    /// </summary>
    internal static async Task SyncAsync(params ApiFactory[] nodes)
    {
        var sentinel = "0:sync-" + Guid.NewGuid().ToString("N");
        await Testing.ExecuteAsync("SELECT pg_notify('user_data_changed', @sentinel)", new { sentinel });
        var deadline = Stopwatch.StartNew();
        while (nodes.Any(n => Listener(n).LastHandled != sentinel || !Listener(n).RefreshesIdle))
        {
            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(30)), "a listener never handled the sentinel");
            await Task.Delay(10);
        }
    }

    /// <summary>A node with the listener on (the shared test node has it off), once it listens.</summary>
    internal static async Task<ApiFactory> StartListeningNodeAsync(string name, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var node = new ApiFactory(name, settings);
        _ = node.Server;
        var deadline = Stopwatch.StartNew();
        while (Listener(node).State != UserChangeListener.ListenerState.Listening)
        {
            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), $"{name} never listened");
            await Task.Delay(10);
        }

        return node;
    }

    private static async Task<JsonNode> CachedAsync(HttpClient client, string userId)
    {
        await GetAsync(client, userId);
        var answer = await GetAsync(client, userId);
        Assert.That(Source(answer), Is.EqualTo("memory"));
        return answer;
    }

    [Test]
    public async Task ASqlUpdateIsAnsweredByBothNodesSoonAfterItCommitsWhileOtherUsersStayCached()
    {
        await using var nodeA = await StartListeningNodeAsync("node-a-listening");
        await using var nodeB = await StartListeningNodeAsync("node-b-listening");
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        await InsertProfileAsync("changed", industry: "before");
        await InsertProfileAsync("untouched");
        await SyncAsync(nodeA, nodeB);
        foreach (var client in new[] { clientA, clientB })
        {
            await CachedAsync(client, "changed");
            await CachedAsync(client, "untouched");
        }

        await Testing.ExecuteAsync("UPDATE user_profiles SET industry = 'after' WHERE user_id = 'changed'");
        var committed = Stopwatch.StartNew();
        var seen = new Dictionary<string, double>();
        // Milliseconds on a quiet machine (the test prints them); the bound is for a saturated one.
        while (seen.Count < 2 && committed.Elapsed < TimeSpan.FromSeconds(10))
        {
            foreach (var (name, client) in new[] { ("node-a", clientA), ("node-b", clientB) })
            {
                if (!seen.ContainsKey(name) && Industry(await GetAsync(client, "changed")) == "after")
                {
                    seen[name] = committed.Elapsed.TotalMilliseconds;
                }
            }
        }

        Assert.That(seen.Keys, Is.EquivalentTo(new[] { "node-a", "node-b" }), "nodes that answered the new data within 10 s");
        TestContext.Out.WriteLine($"new data answered after: {string.Join(", ", seen.Select(s => $"{s.Key} {s.Value:F1} ms"))}");
        // Every tier agrees: without L1, node-b's answer comes from L2 or a recomputation, never the old value.
        nodeA.Services.GetRequiredService<ContentPlanning.Caching.CacheMemory>().Clear();
        Assert.That(Industry(await GetAsync(clientA, "changed")), Is.EqualTo("after"));
        Assert.That(Source(await GetAsync(clientA, "untouched")), Is.EqualTo("redis"));
        Assert.That(Source(await GetAsync(clientB, "untouched")), Is.EqualTo("memory"));
    }

    [Test]
    public async Task ARolledBackTransactionEvictsNothing()
    {
        await using var nodeA = await StartListeningNodeAsync("node-a-listening");
        await using var nodeB = await StartListeningNodeAsync("node-b-listening");
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        await InsertProfileAsync("rolled-back", industry: "before");
        await SyncAsync(nodeA, nodeB);
        await CachedAsync(clientA, "rolled-back");
        await CachedAsync(clientB, "rolled-back");

        await using (var connection = await Testing.DataSource.OpenConnectionAsync())
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await using var update = new Npgsql.NpgsqlCommand("UPDATE user_profiles SET industry = 'never' WHERE user_id = 'rolled-back'", connection, transaction);
            await update.ExecuteNonQueryAsync();
            await transaction.RollbackAsync();
        }

        await SyncAsync(nodeA, nodeB);
        Assert.That(Source(await GetAsync(clientA, "rolled-back")), Is.EqualTo("memory"));
        Assert.That(Source(await GetAsync(clientB, "rolled-back")), Is.EqualTo("memory"));
    }

    [Test]
    public async Task AfterTheListenersAreKilledAndBackNoStaleAnswerIsServedAsFresh()
    {
        await using var nodeA = await StartListeningNodeAsync("node-a-listening");
        await using var nodeB = await StartListeningNodeAsync("node-b-listening");
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        await InsertProfileAsync("missed", industry: "before");
        await SyncAsync(nodeA, nodeB);
        await CachedAsync(clientA, "missed");
        await CachedAsync(clientB, "missed");
        var reconnects = new[] { Listener(nodeA), Listener(nodeB) }.Select(l => l.BackendProcessId).ToArray();

        // Both listeners at once: no node hears the update, so only the reconnect rule can keep the caches honest.
        await Testing.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '{UserChangeListener.ApplicationNamePrefix}%'");
        await Testing.ExecuteAsync("UPDATE user_profiles SET industry = 'after' WHERE user_id = 'missed'");
        using (var ready = await clientB.GetAsync("/health/ready"))
        {
            Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var deadline = Stopwatch.StartNew();
        while (new[] { Listener(nodeA), Listener(nodeB) }.Any(l => l.State != UserChangeListener.ListenerState.Listening
                   || reconnects.Contains(l.BackendProcessId)))
        {
            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15)), "the listeners did not reconnect");
            await Task.Delay(20);
        }

        foreach (var client in new[] { clientA, clientB })
        {
            var answer = await GetAsync(client, "missed");
            Assert.That(Industry(answer), Is.EqualTo("after"), $"answered from {Source(answer)}");
            Assert.That(answer["cache_info"]!["is_stale"]!.GetValue<bool>(), Is.False);
        }
    }

    [Test]
    public async Task ListenerStateIsDegradedInReadinessWhileItReconnects()
    {
        await using var node = new ApiFactory("node-listener-cut", new Dictionary<string, string?>
        {
            ["CacheCoherence:ReconnectDelay"] = "00:00:05",
        });
        using var client = node.CreateClient();
        var listener = Listener(node);
        var deadline = Stopwatch.StartNew();
        while (listener.State != UserChangeListener.ListenerState.Listening)
        {
            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
            await Task.Delay(10);
        }

        await Testing.ExecuteAsync("SELECT pg_terminate_backend(@pid)", new { pid = listener.BackendProcessId });
        while (listener.State != UserChangeListener.ListenerState.Reconnecting)
        {
            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)));
            await Task.Delay(10);
        }

        using var ready = await client.GetAsync("/health/ready");
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(body["checks"]!["cache_coherence"]!["status"]!.GetValue<string>(), Is.EqualTo("degraded"));
        Assert.That(body["status"]!.GetValue<string>(), Is.EqualTo("degraded"));
    }

    [Test]
    public async Task ABulkUpdateOfTenThousandUsersEvictsEveryOne()
    {
        await using var nodeA = await StartListeningNodeAsync("node-a-listening");
        await using var nodeB = await StartListeningNodeAsync("node-b-listening");
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        await Testing.ExecuteAsync("""
            INSERT INTO user_profiles (user_id, industry) SELECT 'bulk-' || i, 'before' FROM generate_series(1, 10000) AS i
            """);
        await SyncAsync(nodeA, nodeB);
        var sample = Enumerable.Range(0, 20).Select(i => $"bulk-{1 + (i * 499)}").ToList();
        foreach (var userId in sample)
        {
            await CachedAsync(clientA, userId);
            await CachedAsync(clientB, userId);
        }

        var handledBefore = new[] { Listener(nodeA).Handled, Listener(nodeB).Handled };
        var bulk = Stopwatch.StartNew();
        var updated = await Testing.ExecuteAsync("UPDATE user_profiles SET industry = 'after' WHERE user_id LIKE 'bulk-%'");
        var committed = bulk.Elapsed;
        await SyncAsync(nodeA, nodeB);
        TestContext.Out.WriteLine($"bulk update of {updated} users: {committed.TotalMilliseconds:F0} ms to commit, all evicted on both nodes after {bulk.Elapsed.TotalMilliseconds:F0} ms");

        Assert.That(updated, Is.EqualTo(10_000));
        Assert.That(Listener(nodeA).Handled - handledBefore[0], Is.EqualTo(10_001), "one notification per user, plus the sentinel");
        Assert.That(Listener(nodeB).Handled - handledBefore[1], Is.EqualTo(10_001));
        foreach (var userId in sample)
        {
            Assert.That(Industry(await GetAsync(clientA, userId)), Is.EqualTo("after"), userId);
            Assert.That(Industry(await GetAsync(clientB, userId)), Is.EqualTo("after"), userId);
        }
    }
}
