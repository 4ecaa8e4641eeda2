using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Tests.CacheCoherence;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Database;

/// <summary>
/// Issue 24: the service through a real PgBouncer in transaction pooling mode (scripts/test.sh starts it on loopback):
/// the request path on the pooler, what needs a session on ConnectionStrings:PostgresDirect.
/// </summary>
public sealed class PgBouncerTests : DatabaseTest
{
    internal static Dictionary<string, string?> ThroughPgBouncer(params (string Key, string? Value)[] extra)
    {
        var settings = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = TestEnvironment.PgBouncerConnectionString,
            ["ConnectionStrings:PostgresDirect"] = TestEnvironment.PostgresConnectionString,
            ["Database:Pooler"] = "transaction",
            ["Database:ListenerCheckInterval"] = "00:00:01",
        };
        foreach (var (key, value) in extra)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>Concurrent GETs and PUTs of user profiles; returns the failures (status and body).</summary>
    internal static async Task<(int Sent, IReadOnlyCollection<string> Failures)> LoadAsync(HttpClient client, int requests, int concurrency = 16)
    {
        var failures = new ConcurrentQueue<string>();
        var next = -1;
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < requests; i = Interlocked.Increment(ref next))
            {
                var url = $"{ApiRoot}/users/bouncer-{i % 8}/profile";
                try
                {
                    using var response = i % 2 == 0
                        ? await client.PutJsonAsync(url, $$"""{"industry": "industry-{{i}}"}""")
                        : await client.GetAsync(url);
                    if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.NotFound))
                    {
                        failures.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                }
                catch (HttpRequestException ex)
                {
                    failures.Enqueue(ex.Message);
                }
            }
        }));
        return (requests, failures);
    }

    [Test]
    public async Task ReadAndWriteRoutesAnswerWithoutAnErrorThroughTransactionPooling()
    {
        await using var node = new ApiFactory("node-bouncer", ThroughPgBouncer());
        using var client = node.CreateClient();
        var (sent, failures) = await LoadAsync(client, 1200);
        TestContext.Out.WriteLine($"through PgBouncer (transaction pooling): {sent} requests, {failures.Count} failed");
        Assert.That(failures, Is.Empty, string.Join("\n", failures.Take(5)));
    }

    [Test]
    public async Task ASqlWriteIsSeenByEveryNodeWhoseListenerIsOnTheDirectString()
    {
        await using var nodeA = await ChangeNotificationTests.StartListeningNodeAsync("node-bouncer-a", ThroughPgBouncer());
        await using var nodeB = await ChangeNotificationTests.StartListeningNodeAsync("node-bouncer-b", ThroughPgBouncer());
        using var clientA = nodeA.CreateClient();
        using var clientB = nodeB.CreateClient();
        await InsertProfileAsync("bouncer-sql", industry: "before");
        await ChangeNotificationTests.SyncAsync(nodeA, nodeB);
        foreach (var client in new[] { clientA, clientB })
        {
            await GetAsync(client, "bouncer-sql");
            Assert.That(Source(await GetAsync(client, "bouncer-sql")), Is.EqualTo("memory"));
        }

        // The write goes through PgBouncer too, as another service sharing the pooler would write.
        await using (var pooled = new NpgsqlConnection(TestEnvironment.PgBouncerConnectionString + ";Max Auto Prepare=0"))
        {
            await pooled.OpenAsync();
            await using var update = new NpgsqlCommand("UPDATE user_profiles SET industry = 'after' WHERE user_id = 'bouncer-sql'", pooled);
            await update.ExecuteNonQueryAsync();
        }

        await ChangeNotificationTests.SyncAsync(nodeA, nodeB);
        foreach (var client in new[] { clientA, clientB })
        {
            var answer = await GetAsync(client, "bouncer-sql");
            Assert.That(answer["data"]!["onboarding_data"]!["industry"]!.GetValue<string>(), Is.EqualTo("after"), Source(answer));
        }
    }

    [Test]
    public async Task ConcurrentIdempotencyKeyRequestsLeaveNoAdvisoryLockBehind()
    {
        await Testing.ExecuteAsync("""
            INSERT INTO content_strategies (user_id, name, industry, content_pillars, business_objectives)
            VALUES ('bouncer-cal', 'Plan', 'retail', '{"Education": 3, "Stories": 1}', '["brand awareness"]')
            """);
        await using var node = new ApiFactory("node-bouncer-keys", ThroughPgBouncer());
        using var client = node.CreateClient();
        var statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var message = new HttpRequestMessage(HttpMethod.Post, ApiRoot + "/calendar-generation/generate-calendar")
            {
                Content = Body("""{"user_id": "bouncer-cal", "calendar_type": "weekly", "start_date": "2026-03-02"}"""),
            };
            message.Headers.Add("Idempotency-Key", $"key-{i % 4}");
            using var response = await client.SendAsync(message);
            return response.StatusCode;
        }));

        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.OK), string.Join(", ", statuses));
        var held = await Testing.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'");
        TestContext.Out.WriteLine($"40 concurrent Idempotency-Key requests through PgBouncer: {held} advisory locks left in pg_locks");
        Assert.That(held, Is.Zero);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'bouncer-cal'"), Is.EqualTo(4));
    }

    [Test]
    public async Task TheUserByteBoundIsEnforcedThroughPgBouncer()
    {
        await using var node = new ApiFactory("node-bouncer-bounded", ThroughPgBouncer(("Database:MaxUserSourceBytes", "4096")));
        using var client = node.CreateClient();
        var gaps = new JsonArray();
        for (var i = 0; i < 200; i++)
        {
            gaps.Add(Guid.NewGuid().ToString("N"));
        }

        var body = new JsonObject { ["user_id"] = "bouncer-heavy", ["website_url"] = "https://shop.example.com", ["analysis_results"] = new JsonObject { ["content_gaps"] = gaps } };
        using var refused = await client.PostJsonAsync(ApiRoot + "/gap-analysis", body.ToJsonString());
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), await refused.Content.ReadAsStringAsync());
        Assert.That(await refused.Content.ReadAsStringAsync(), Does.Contain("4096"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_gap_analyses WHERE user_id = 'bouncer-heavy'"), Is.Zero);
    }

    [Test]
    public async Task MigrateThroughPgBouncerAppliesEveryMigrationOverTheDirectString()
    {
        var database = "cp_bouncer_" + Guid.NewGuid().ToString("N")[..8];
        await Testing.ExecuteAsync($"CREATE DATABASE {database}");
        try
        {
            var direct = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = database }.ConnectionString;
            var pooled = new NpgsqlConnectionStringBuilder(TestEnvironment.PgBouncerConnectionString) { Database = database }.ConnectionString;
            var (exit, output) = await ApiProcess.RunVerbAsync(["migrate"], new Dictionary<string, string>
            {
                ["ConnectionStrings__Postgres"] = pooled,
                ["ConnectionStrings__PostgresDirect"] = direct,
                ["Database__Pooler"] = "transaction",
                ["Database__MaxUserSourceBytes"] = "123456",
            });
            Assert.That(exit, Is.Zero, output);
            await using var connection = new NpgsqlConnection(direct);
            await connection.OpenAsync();
            await using var count = new NpgsqlCommand("SELECT count(*) FROM schema_migrations", connection);
            Assert.That((long)(await count.ExecuteScalarAsync())!, Is.EqualTo(Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "migrations"), "*.sql").Length));
            await using var bound = new NpgsqlCommand("SELECT max_user_source_bytes()", connection);
            Assert.That((long)(await bound.ExecuteScalarAsync())!, Is.EqualTo(123456));
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await Testing.ExecuteAsync($"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
    }

    [Test]
    public async Task AListenerThatCannotHearThroughAPoolerIsNeverReportedListening()
    {
        // Misconfigured on purpose: the "direct" string goes through the transaction pooler too. LISTEN succeeds there,
        // but the notifications never reach the idle client: the echo check must notice.
        try
        {
            await ListenThroughThePoolerAsync();
        }
        finally
        {
            // Those LISTENs stay registered on PgBouncer's server connections, which then receive every later echo of every
            // node while linked to other clients: close them, so the tests after this one start from a clean pooler.
            await Testing.ExecuteAsync("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE 'cp-listener:node-bouncer-deaf%' OR (application_name = '' AND query LIKE 'LISTEN%')");
        }
    }

    private static async Task ListenThroughThePoolerAsync()
    {
        await using var node = new ApiFactory("node-bouncer-deaf", new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = TestEnvironment.PgBouncerConnectionString,
            ["ConnectionStrings:PostgresDirect"] = TestEnvironment.PgBouncerConnectionString,
            ["Database:Pooler"] = "transaction",
            ["Database:ListenerCheckInterval"] = "00:00:00.300",
        });
        using var client = node.CreateClient();
        var listener = node.Services.GetRequiredService<DatabaseListener>();
        var watch = Stopwatch.StartNew();
        while (listener.Drops < 2)
        {
            Assert.That(listener.State, Is.Not.EqualTo(DatabaseListener.ListenerState.Listening), "a deaf listener reported listening");
            Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)), $"the listener never gave up on its echo ({listener.State}, drops {listener.Drops}, last: {listener.LastDrop})");
            await Task.Delay(20);
        }

        using var ready = await client.GetAsync("/health/ready");
        var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
        Assert.That(body["checks"]!["database_listener"]!["status"]!.GetValue<string>(), Is.EqualTo("degraded"));
        Assert.That(body["checks"]!["cache_coherence"]!["status"]!.GetValue<string>(), Is.EqualTo("degraded"));
        Assert.That(listener.ChecksPassed, Is.Zero);
    }
}
