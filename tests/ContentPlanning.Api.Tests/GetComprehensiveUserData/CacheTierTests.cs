using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

public sealed class CacheTierTests : DatabaseTest
{
    [Test]
    public async Task EachTierAnswersInTurnAndASqlChangeToASourceIsRecomputedWithANewHash()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("tiers");
        var gapId = await InsertGapAnalysisAsync("tiers", """["before"]""");

        var computed = await GetAsync(client, "tiers");
        var memory = await GetAsync(client, "tiers");
        Testing.ClearMemory();
        var redis = await GetAsync(client, "tiers");
        await Testing.Cache.ClearAsync(allowFailSafe: false);
        var snapshot = await GetAsync(client, "tiers");

        // Not through the API, so nothing invalidates L1/L2; flushing them leaves the snapshot tier to notice the change.
        await Testing.ExecuteAsync(
            """UPDATE content_gap_analyses SET analysis_results = '{"content_gaps": ["after"]}' WHERE id = @gapId""", new { gapId });
        await Testing.Cache.ClearAsync(allowFailSafe: false);
        var recomputed = await GetAsync(client, "tiers");

        Assert.That(new[] { computed, memory, redis, snapshot, recomputed }.Select(Source),
            Is.EqualTo(new[] { "computed", "memory", "redis", "database_snapshot", "computed" }));
        Assert.That(new[] { computed, memory, redis, snapshot, recomputed }.Select(a => a["cache_info"]!["is_cached"]!.GetValue<bool>()),
            Is.EqualTo(new[] { false, true, true, true, false }));
        Assert.That(computed["message"]!.GetValue<string>(), Does.Contain("cache: MISS"));
        Assert.That(snapshot["message"]!.GetValue<string>(), Does.Contain("cache: HIT"));
        Assert.That(new[] { memory, redis, snapshot }.Select(DataHash), Is.All.EqualTo(DataHash(computed)));
        Assert.That(JsonNode.DeepEquals(snapshot["data"], computed["data"]), Is.True);
        Assert.That(DataHash(recomputed), Is.Not.EqualTo(DataHash(computed)));
        Assert.That(ContentGaps(snapshot), Is.EqualTo(new[] { "before" }));
        Assert.That(ContentGaps(recomputed), Is.EqualTo(new[] { "after" }));
    }

    [Test]
    public async Task EveryTierAnswersTheSameDataForACompleteUser()
    {
        using var client = Testing.CreateClient();
        await SeedCompleteUserAsync("round-trip");
        await InsertGapAnalysisAsync("round-trip", """[{"topic": "pricing", "score": 0.75}, null]""", daysAgo: 1);
        await InsertAnalyticsAsync("round-trip", "youtube", """{"views": 12.5, "label": "not a number"}""", score: null);

        var computed = await GetAsync(client, "round-trip");
        var memory = await GetAsync(client, "round-trip");
        Testing.ClearMemory();
        var redis = await GetAsync(client, "round-trip");
        await Testing.Cache.ClearAsync(allowFailSafe: false);
        var snapshot = await GetAsync(client, "round-trip");

        Assert.That(new[] { memory, redis, snapshot }.Select(Source), Is.EqualTo(new[] { "memory", "redis", "database_snapshot" }));
        foreach (var answer in new[] { memory, redis, snapshot })
        {
            // The same JSON; key order may differ, as jsonb (the snapshot column) orders an object's keys its own way.
            Assert.That(JsonNode.DeepEquals(answer["data"], computed["data"]), Is.True,
                $"{Source(answer)}:\n{answer["data"]!.ToJsonString()}\ncomputed:\n{computed["data"]!.ToJsonString()}");
            Assert.That(answer["cache_info"]!["generated_at"]!.GetValue<DateTimeOffset>(),
                Is.EqualTo(computed["cache_info"]!["generated_at"]!.GetValue<DateTimeOffset>()).Within(TimeSpan.FromMilliseconds(1)), Source(answer));
        }
    }

    private static IEnumerable<TestCaseData> DirectSqlChanges()
    {
        yield return new TestCaseData("UPDATE user_profiles SET writing_tone = 'casual' WHERE user_id = 'sql'").SetArgDisplayNames("profile updated");
        yield return new TestCaseData("UPDATE content_strategies SET name = 'Renamed' WHERE user_id = 'sql'").SetArgDisplayNames("strategy updated");
        yield return new TestCaseData("UPDATE strategy_activation_status SET status = 'paused' WHERE user_id = 'sql'").SetArgDisplayNames("activation updated");
        yield return new TestCaseData("DELETE FROM content_recommendations WHERE user_id = 'sql'").SetArgDisplayNames("recommendation deleted");
        yield return new TestCaseData("INSERT INTO content_analytics (user_id, platform) VALUES ('sql', 'tiktok')").SetArgDisplayNames("analytics inserted");
        yield return new TestCaseData("UPDATE content_gap_analyses SET user_id = 'someone-else' WHERE user_id = 'sql'").SetArgDisplayNames("gap analysis moved to another user");
    }

    [TestCaseSource(nameof(DirectSqlChanges))]
    public async Task ADirectSqlChangeToAnySourceOfTheUserIsNotAnsweredFromTheSnapshot(string sql)
    {
        using var client = Testing.CreateClient();
        await SeedCompleteUserAsync("sql");
        var before = await GetAsync(client, "sql");

        await Testing.ExecuteAsync(sql);
        await Testing.Cache.ClearAsync(allowFailSafe: false);
        var after = await GetAsync(client, "sql");

        Assert.That(Source(after), Is.EqualTo("computed"));
        Assert.That(DataHash(after), Is.Not.EqualTo(DataHash(before)));
        Assert.That(JsonNode.DeepEquals(after["data"], before["data"]), Is.False, "the answer shows the change");
    }

    [Test]
    public async Task AChangeToAnotherUsersSourcesLeavesTheSnapshotValid()
    {
        using var client = Testing.CreateClient();
        await SeedCompleteUserAsync("untouched");
        await SeedCompleteUserAsync("neighbour");
        await GetAsync(client, "untouched");

        await Testing.ExecuteAsync("UPDATE content_gap_analyses SET recommendations = '[]' WHERE user_id = 'neighbour'");
        await Testing.Cache.ClearAsync(allowFailSafe: false);

        Assert.That(Source(await GetAsync(client, "untouched")), Is.EqualTo("database_snapshot"));
    }

    [Test]
    public async Task ASnapshotOlderThanItsLifetimeIsNotServed()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("expired");
        await GetAsync(client, "expired");
        await Testing.ExecuteAsync("UPDATE comprehensive_user_data_cache SET expires_at = now() - interval '1 second' WHERE user_id = 'expired'");
        await Testing.Cache.ClearAsync(allowFailSafe: false);

        var answer = await GetAsync(client, "expired");

        Assert.That(Source(answer), Is.EqualTo("computed"));
        Assert.That(await Testing.ScalarAsync<bool>("SELECT expires_at > now() FROM comprehensive_user_data_cache WHERE user_id = 'expired'"), Is.True,
            "the recomputed answer replaces the expired row");
    }

    [TestCase("""{"user_id": "old-format", "data_quality": "high"}""", TestName = "A snapshot row with a member of another type is reassembled")]
    [TestCase("""{"user_id": "old-format"}""", TestName = "A snapshot row missing members is reassembled")]
    public async Task ASnapshotRowThatNoLongerReadsAsComprehensiveDataIsReassembled(string storedJson)
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("old-format");
        await GetAsync(client, "old-format");
        // As a row written by an earlier version of the service could look: the sources did not change, so the hash matches.
        await Testing.ExecuteAsync("""
            UPDATE comprehensive_user_data_cache SET comprehensive_data = @storedJson::jsonb WHERE user_id = 'old-format'
            """, new { storedJson });
        await Testing.Cache.ClearAsync(allowFailSafe: false);

        var answer = await GetAsync(client, "old-format");

        Assert.That(Source(answer), Is.EqualTo("computed"));
        Assert.That(answer["data"]!["data_quality"]!["missing_sections"]!.AsArray(), Has.Count.EqualTo(4));
    }

    [Test]
    public async Task ForceRefreshReassemblesAndRewritesEveryTier()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("forced");
        var gapId = await InsertGapAnalysisAsync("forced", """["before"]""");
        var first = await GetAsync(client, "forced");
        await Testing.ExecuteAsync(
            """UPDATE content_gap_analyses SET analysis_results = '{"content_gaps": ["after"]}' WHERE id = @gapId""", new { gapId });
        var cached = await GetAsync(client, "forced");

        var forced = await GetAsync(client, "forced", forceRefresh: true);
        var memory = await GetAsync(client, "forced");
        Testing.ClearMemory();
        var redis = await GetAsync(client, "forced");
        await Testing.Cache.ClearAsync(allowFailSafe: false);
        var snapshot = await GetAsync(client, "forced");

        Assert.That(Source(cached), Is.EqualTo("memory"));
        Assert.That(ContentGaps(cached), Is.EqualTo(new[] { "before" }), "without force_refresh the cached answer stands");
        Assert.That(Source(forced), Is.EqualTo("computed"));
        Assert.That(forced["cache_info"]!["force_refresh"]!.GetValue<bool>(), Is.True);
        Assert.That(forced["message"]!.GetValue<string>(), Does.Contain("cache: MISS"));
        Assert.That(DataHash(forced), Is.Not.EqualTo(DataHash(first)));
        Assert.That(new[] { memory, redis, snapshot }.Select(Source), Is.EqualTo(new[] { "memory", "redis", "database_snapshot" }));
        foreach (var answer in new[] { forced, memory, redis, snapshot })
        {
            Assert.That(ContentGaps(answer), Is.EqualTo(new[] { "after" }));
            Assert.That(DataHash(answer), Is.EqualTo(DataHash(forced)));
        }
    }

    [Test]
    public async Task ForceRefreshOfAnUnchangedUserReplacesTheSnapshotRowNotAddsOne()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("one-row");
        await GetAsync(client, "one-row");
        var before = await Testing.ScalarAsync<DateTime>("SELECT created_at FROM comprehensive_user_data_cache WHERE user_id = 'one-row'");

        await GetAsync(client, "one-row", forceRefresh: true);

        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache WHERE user_id = 'one-row'"), Is.EqualTo(1));
        Assert.That(await Testing.ScalarAsync<DateTime>("SELECT created_at FROM comprehensive_user_data_cache WHERE user_id = 'one-row'"),
            Is.GreaterThan(before));
    }

    [Test]
    public async Task AStrategyScopedReadIsCachedSeparatelyFromTheResolvedOne()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("scoped");
        var active = await InsertStrategyAsync("scoped", "Active", active: true);
        var other = await InsertStrategyAsync("scoped", "Other");

        var resolved = await GetAsync(client, "scoped");
        var requested = await GetAsync(client, "scoped", other);
        var requestedAgain = await GetAsync(client, "scoped", other);

        Assert.That(resolved["data"]!["strategy_data"]!["strategy"]!["id"]!.GetValue<long>(), Is.EqualTo(active));
        Assert.That(resolved["data"]!["strategy_data"]!["resolution"]!.GetValue<string>(), Is.EqualTo("active"));
        Assert.That(Source(requested), Is.EqualTo("computed"));
        Assert.That(requested["data"]!["strategy_data"]!["strategy"]!["id"]!.GetValue<long>(), Is.EqualTo(other));
        Assert.That(requested["data"]!["strategy_data"]!["resolution"]!.GetValue<string>(), Is.EqualTo("requested"));
        Assert.That(Source(requestedAgain), Is.EqualTo("memory"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache WHERE user_id = 'scoped'"), Is.EqualTo(2));
    }

    [Test]
    public async Task ActivatingAnotherStrategyThroughTheApiIsAnsweredByTheNextRead()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("activated");
        var first = await InsertStrategyAsync("activated", "First", active: true);
        var second = await InsertStrategyAsync("activated", "Second");
        await GetAsync(client, "activated");
        var cached = await GetAsync(client, "activated");

        using (var activate = await client.PostAsync($"/api/content-planning/strategies/{second}/activate", null))
        {
            Assert.That(activate.StatusCode, Is.EqualTo(HttpStatusCode.OK), await activate.Content.ReadAsStringAsync());
        }

        var next = await GetAsync(client, "activated");

        Assert.That(Source(cached), Is.EqualTo("memory"));
        Assert.That(cached["data"]!["strategy_data"]!["strategy"]!["id"]!.GetValue<long>(), Is.EqualTo(first));
        Assert.That(Source(next), Is.EqualTo("computed"));
        Assert.That(next["data"]!["strategy_data"]!["strategy"]!["id"]!.GetValue<long>(), Is.EqualTo(second));
        Assert.That(next["data"]!["strategy_data"]!["activation"]!["status"]!.GetValue<string>(), Is.EqualTo("active"));
    }

    [Test]
    public async Task AnAssemblyOverlappingAnApiWriteIsNotKeptCachedAfterIt()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("racing");
        await InsertStrategyAsync("racing", "First", active: true);
        var second = await InsertStrategyAsync("racing", "Second");

        // Holds the assembly's batched read at its last statement (analytics), after it has read the strategies.
        await using var blocker = await Testing.DataSource.OpenConnectionAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await blocker.ExecuteAsync("LOCK TABLE content_analytics IN ACCESS EXCLUSIVE MODE", transaction: transaction);
        var racing = GetAsync(client, "racing");
        await WaitForALockWaitOnAsync("content_analytics");

        using (var activate = await client.PostAsync($"/api/content-planning/strategies/{second}/activate", null))
        {
            Assert.That(activate.StatusCode, Is.EqualTo(HttpStatusCode.OK), await activate.Content.ReadAsStringAsync());
        }

        await transaction.RollbackAsync();
        await racing;
        var next = await GetAsync(client, "racing");

        Assert.That(next["data"]!["strategy_data"]!["strategy"]!["id"]!.GetValue<long>(), Is.EqualTo(second),
            $"the read after the activation was answered from {Source(next)} with the strategy from before it");
    }

    [Test]
    public async Task AUserAnswered404OnOneNodeIsFoundThereOnceAStrategyIsCreatedOnAnother()
    {
        await using var nodeB = new Infrastructure.ApiFactory("node-b");
        using var clientA = Testing.CreateClient();
        using var clientB = nodeB.CreateClient();
        using var before = await clientB.GetAsync(Url("newcomer"));

        using (var created = await clientA.PostAsJsonAsync("/api/content-planning/strategies", new { user_id = "newcomer", name = "Fresh start" }))
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        }

        var status = HttpStatusCode.NotFound;
        for (var i = 0; i < 50 && status == HttpStatusCode.NotFound; i++)
        {
            using var after = await clientB.GetAsync(Url("newcomer"));
            status = after.StatusCode;
            if (status == HttpStatusCode.NotFound)
            {
                await Task.Delay(20);
            }
        }

        Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK), "node B still answered 404 a second after the strategy was created");
    }

    [Test]
    public async Task TwoHundredConcurrentFirstReadsOfOneUserAssembleOnce()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        await SeedCompleteUserAsync("stampede");
        var before = (await StatsAsync(admin))["factory_executions"]!.GetValue<long>();

        var responses = await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await client.GetAsync(Url("stampede"));
            return (response.StatusCode, Body: JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
        }));
        var after = (await StatsAsync(admin))["factory_executions"]!.GetValue<long>();

        Assert.That(responses.Select(r => r.StatusCode), Is.All.EqualTo(HttpStatusCode.OK));
        Assert.That(after - before, Is.EqualTo(1), "cache factory executions");
        // One factory run: every caller was answered the value it produced on this node (README "cache_info"), none from Redis.
        Assert.That(responses.Select(r => Source(r.Body)), Is.All.AnyOf("computed", "memory"));
        Assert.That(responses.Select(r => DataHash(r.Body)).Distinct().Count(), Is.EqualTo(1));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache WHERE user_id = 'stampede'"), Is.EqualTo(1));
    }

    private static async Task WaitForALockWaitOnAsync(string table)
    {
        for (var i = 0; i < 250; i++)
        {
            if (await Testing.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = @table::regclass", new { table }) > 0)
            {
                return;
            }

            await Task.Delay(20);
        }

        Assert.Fail($"no query waited for the lock on {table}");
    }

    private static string[] ContentGaps(JsonNode answer) =>
        answer["data"]!["gap_analysis"]!["content_gaps"]!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
}
