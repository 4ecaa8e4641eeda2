using System.Diagnostics;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.CacheCoherence.ChangeNotificationTests;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheCoherence;

/// <summary>The numbers issue 15 asks for, printed rather than asserted: run by hand (--filter "FullyQualifiedName~Measure").</summary>
[Explicit("Measurement, not a check: prints delays and asserts no bound")]
public sealed class MeasureChangeNotification : DatabaseTest
{
    [Test]
    public async Task MeasureCommitToEvictionOnTheOtherNode()
    {
        const int samples = 300;
        await using var nodeA = await StartListeningNodeAsync("node-a-listening");
        await using var nodeB = await StartListeningNodeAsync("node-b-listening");
        using var clientB = nodeB.CreateClient();
        await InsertProfileAsync("measured");
        await SyncAsync(nodeA, nodeB);
        var listenerB = Listener(nodeB);
        var delays = new List<double>();
        var fromSend = new List<double>();
        for (var i = 0; i < samples; i++)
        {
            await GetAsync(clientB, "measured");
            var sent = Stopwatch.StartNew();
            // The payload names the transaction: node-b has evicted this commit's user once it reports that payload handled.
            var xact = await Testing.ScalarAsync<string>("""
                UPDATE user_profiles SET industry = 'v' || @i WHERE user_id = 'measured' RETURNING pg_current_xact_id()::text
                """, new { i });
            var committed = Stopwatch.StartNew();
            var payload = xact + ".d:measured";
            while (listenerB.LastHandled != payload)
            {
                await Task.Yield();
            }

            delays.Add(committed.Elapsed.TotalMilliseconds);
            fromSend.Add(sent.Elapsed.TotalMilliseconds);
        }

        // Lower bound: from the writer seeing its commit (the listener may already be done by then). Upper bound: from
        // sending the autocommitted UPDATE, so it includes the statement itself.
        TestContext.Out.WriteLine($"commit returned to the writer -> eviction on node-b over {samples} commits: {Latency.Describe(delays, 0.9, 0.99)}");
        TestContext.Out.WriteLine($"UPDATE sent -> eviction on node-b over {samples} commits: {Latency.Describe(fromSend, 0.9, 0.99)}");
    }

    private const string PreviousTrigger = """
        CREATE OR REPLACE FUNCTION bump_user_data_version() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                INSERT INTO user_data_versions AS v (user_id) VALUES (OLD.user_id)
                ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1, updated_at = now();
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') AND (TG_OP = 'INSERT' OR NEW.user_id IS DISTINCT FROM OLD.user_id) THEN
                INSERT INTO user_data_versions AS v (user_id) VALUES (NEW.user_id)
                ON CONFLICT (user_id) DO UPDATE SET version = v.version + 1, updated_at = now();
            END IF;
            RETURN NULL;
        END;
        $$
        """;

    [Test]
    public async Task MeasureBulkUpdateOfTenThousandUsers()
    {
        const string Seed = "INSERT INTO user_profiles (user_id, industry) SELECT 'bulk-' || i, 'before' FROM generate_series(1, 10000) AS i";
        const string Bulk = "UPDATE user_profiles SET industry = industry || '+' WHERE user_id LIKE 'bulk-%'";
        await Testing.ExecuteAsync(Seed);

        // The trigger before migration 0007 (no pg_notify), put back afterwards: the notifications' own cost.
        var current = await Testing.ScalarAsync<string>("SELECT pg_get_functiondef('bump_user_data_version'::regproc)");
        await Testing.ExecuteAsync(PreviousTrigger);
        var previous = new List<double>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var watch = Stopwatch.StartNew();
                await Testing.ExecuteAsync(Bulk);
                previous.Add(watch.Elapsed.TotalMilliseconds);
            }
        }
        finally
        {
            await Testing.ExecuteAsync(current);
        }

        // Without a listener: the shared test node has it off and nothing else LISTENs.
        var without = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            await Testing.ExecuteAsync(Bulk);
            without.Add(watch.Elapsed.TotalMilliseconds);
        }

        await using var nodeA = await StartListeningNodeAsync("node-a-listening");
        await using var nodeB = await StartListeningNodeAsync("node-b-listening");
        var with = new List<double>();
        var evicted = new List<double>();
        for (var i = 0; i < 5; i++)
        {
            var watch = Stopwatch.StartNew();
            await Testing.ExecuteAsync(Bulk);
            with.Add(watch.Elapsed.TotalMilliseconds);
            await SyncAsync(nodeA, nodeB);
            evicted.Add(watch.Elapsed.TotalMilliseconds);
        }

        TestContext.Out.WriteLine($"10 000-user UPDATE, commit, trigger without pg_notify: {Latency.Describe(previous)} (runs: {string.Join(", ", previous.Select(v => v.ToString("F0")))} ms)");
        TestContext.Out.WriteLine($"10 000-user UPDATE, commit, no listener: {Latency.Describe(without)} (runs: {string.Join(", ", without.Select(v => v.ToString("F0")))} ms)");
        TestContext.Out.WriteLine($"10 000-user UPDATE, commit, two nodes listening: {Latency.Describe(with)} (runs: {string.Join(", ", with.Select(v => v.ToString("F0")))} ms)");
        TestContext.Out.WriteLine($"commit -> all 10 000 users evicted on both nodes: {Latency.Describe(evicted)}");
    }
}
