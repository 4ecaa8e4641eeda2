using System.Net;
using System.Text.Json;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarJobs;

/// <summary>Durable generation jobs on two in-process nodes with Hangfire workers, against the real PostgreSQL and Redis.</summary>
public sealed class CalendarJobTests : DatabaseTest
{
    private const string StartUrl = ApiRoot + "/calendar-generation/start";

    private static Dictionary<string, string?> Workers(string stepDuration = "00:00:00", params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["CalendarJobs:WorkersPerNode"] = "2",
            ["CalendarJobs:MinimumStepDuration"] = stepDuration,
            ["CalendarJobs:QueuePollInterval"] = "00:00:00.500",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    internal static async Task<JsonElement> StartAsync(HttpClient client, string userId, HttpStatusCode expected = HttpStatusCode.Accepted, string extra = "")
    {
        using var response = await client.PostJsonAsync(StartUrl, $$"""{"user_id": "{{userId}}", "calendar_type": "monthly"{{extra}}}""");
        Assert.That(response.StatusCode, Is.EqualTo(expected), await response.Content.ReadAsStringAsync());
        return await JsonAsync(response);
    }

    internal static async Task<JsonElement> ProgressAsync(HttpClient client, string sessionId)
    {
        using var response = await client.GetAsync($"{ApiRoot}/calendar-generation/progress/{sessionId}");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await JsonAsync(response);
    }

    /// <summary>Polls the progress answer (bounded) until <paramref name="done"/> holds.</summary>
    /// <summary>What Hangfire knows of a job's work items and of the servers: the failure message of a job that never got there.</summary>
    internal static async Task<string> HangfireStateAsync(string sessionId)
    {
        const string Sql = """
            SELECT 'work item ' || j.id || ' ' || j.statename || ' created ' || j.createdat || ' queue ' ||
                   coalesce((SELECT string_agg(q.queue || ' fetched ' || coalesce(q.fetchedat::text, '-'), ', ') FROM hangfire.jobqueue q WHERE q.jobid = j.id), 'none') ||
                   E'\n  states: ' || coalesce((SELECT string_agg(s.name || ' ' || s.createdat || ' ' || coalesce(s.reason, '') || ' ' || coalesce(s.data::text, ''), E'\n          ' ORDER BY s.id)
                                             FROM hangfire.state s WHERE s.jobid = j.id), '')
            FROM hangfire.job j WHERE j.arguments::text LIKE '%' || @Id || '%'
            UNION ALL
            SELECT 'server ' || id || ' heartbeat ' || lastheartbeat || ' ' || data FROM hangfire.server
            """;
        try
        {
            await using var connection = await Testing.DataSource.OpenConnectionAsync();
            return string.Join("\n", await Dapper.SqlMapper.QueryAsync<string>(connection, Sql, new { Id = sessionId }));
        }
        catch (Npgsql.NpgsqlException ex)
        {
            return $"(Hangfire's tables could not be read: {ex.Message})";
        }
    }

    internal static async Task<JsonElement> WaitForAsync(HttpClient client, string sessionId, Func<JsonElement, bool> done, TimeSpan? limit = null)
    {
        var deadline = DateTime.UtcNow + (limit ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var job = await ProgressAsync(client, sessionId);
            if (done(job))
            {
                return job;
            }

            if (DateTime.UtcNow >= deadline)
            {
                Assert.Fail($"job never reached the expected state; last: {job}\n{await HangfireStateAsync(sessionId)}");
            }

            await Task.Delay(100);
        }
    }

    [Test]
    public async Task EachNodesHangfireConnectionsCarryItsNameAndComeFromItsOwnPool()
    {
        // Hangfire opens connections by string and Npgsql pools by string: with one name for every node, nodes sharing a
        // process (these tests) shared one small pool, and a node whose Hangfire threads held it left the next node's jobs
        // queued. Each node's pool is its own, and pg_stat_activity says whose a connection is.
        await SeedStrategyAsync("job-pools");
        await using var a = new ApiFactory("job-pool-a", Workers());
        await using var b = new ApiFactory("job-pool-b", Workers());
        using var client = b.CreateClient();
        _ = a.Server;
        var sessionId = (await StartAsync(client, "job-pools")).GetProperty("session_id").GetString()!;
        await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "completed");

        var names = await Testing.ScalarAsync<string[]>(
            "SELECT coalesce(array_agg(DISTINCT application_name), '{}') FROM pg_stat_activity WHERE application_name LIKE 'cp-hangfire%'");
        Assert.That(names, Does.Contain("cp-hangfire:job-pool-a").And.Contain("cp-hangfire:job-pool-b"), string.Join(", ", names));
        Assert.That(names, Does.Not.Contain("cp-hangfire"));
    }

    [Test]
    public async Task AJobStartedOnOneNodeIsStreamedAndReportedOnTheOtherAndStoresOneCalendar()
    {
        await SeedStrategyAsync("job-1");
        await using var a = new ApiFactory("job-node-a", Workers("00:00:00.050"));
        await using var b = new ApiFactory("job-node-b", Workers("00:00:00.050"));
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();

        using var response = await clientA.PostJsonAsync(StartUrl, """{"user_id": "job-1", "calendar_type": "monthly"}""");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await response.Content.ReadAsStringAsync());
        var started = await JsonAsync(response);
        var sessionId = started.GetProperty("session_id").GetString()!;
        Assert.Multiple(() =>
        {
            Assert.That(Guid.TryParse(sessionId, out _));
            Assert.That(started.GetProperty("status").GetString(), Is.EqualTo("queued"));
            Assert.That(started.GetProperty("estimated_steps").GetInt32(), Is.EqualTo(12));
            Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"{ApiRoot}/calendar-generation/progress/{sessionId}"));
        });

        // The stream on the other node: every step, then the final event, then the end of the stream.
        var events = await StreamAsync(clientB, sessionId);
        var steps = events.Where(e => e.Type == "step").Select(e => JsonDocument.Parse(e.Data).RootElement).ToList();
        var final = events[^1];
        var job = await ProgressAsync(clientB, sessionId);
        var calendarId = job.GetProperty("calendar_id").GetInt64();
        var stored = await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'job-1'");
        Assert.Multiple(() =>
        {
            Assert.That(steps.Select(s => s.GetProperty("step_number").GetInt32()), Is.EqualTo(Enumerable.Range(1, 12)));
            Assert.That(steps[4].GetProperty("step_name").GetString(), Is.EqualTo("Content Pillar Distribution"));
            Assert.That(final.Type, Is.EqualTo("completed"));
            Assert.That(JsonDocument.Parse(final.Data).RootElement.GetProperty("calendar_id").GetInt64(), Is.EqualTo(calendarId));
            Assert.That(job.GetProperty("status").GetString(), Is.EqualTo("completed"));
            Assert.That(job.GetProperty("overall_progress").GetInt32(), Is.EqualTo(100));
            Assert.That(job.GetProperty("current_step").GetInt32(), Is.EqualTo(12));
            Assert.That(job.GetProperty("step_name").GetString(), Is.EqualTo("Final Calendar Assembly"));
            Assert.That(job.GetProperty("step_results").GetArrayLength(), Is.EqualTo(12));
            Assert.That(job.GetProperty("attempt").GetInt32(), Is.EqualTo(1));
            Assert.That(job.GetProperty("user_id").GetString(), Is.EqualTo("job-1"));
            Assert.That(job.GetProperty("error").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(stored, Is.EqualTo(1));
        });

        using var calendar = await clientB.GetAsync($"{ApiRoot}/calendars/{calendarId}");
        Assert.That(calendar.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        // A client connecting after the end first receives what already happened, then the stream ends.
        var late = await StreamAsync(clientA, sessionId);
        Assert.That(late.Select(e => e.Type), Is.EqualTo(Enumerable.Repeat("step", 12).Append("completed")));
    }

    [Test]
    public async Task ASecondStartWhileTheUsersJobRunsReturnsThatJobAndAKeyReplaysItsJob()
    {
        await SeedStrategyAsync("job-2");
        await using var a = new ApiFactory("job-node-a", Workers("00:00:00.300"));
        using var client = a.CreateClient();
        var first = await StartAsync(client, "job-2");
        var sessionId = first.GetProperty("session_id").GetString()!;
        var second = await StartAsync(client, "job-2", HttpStatusCode.OK, """, "calendar_type": "weekly" """.Replace("\"calendar_type\": \"weekly\" ", "\"timezone\": \"UTC\""));
        Assert.That(second.GetProperty("session_id").GetString(), Is.EqualTo(sessionId));
        await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "completed");

        // Idempotency-Key: the same body answers the key's job again (200), another body with it is a 422.
        using var keyed = new HttpRequestMessage(HttpMethod.Post, StartUrl) { Content = Body("""{"user_id": "job-2", "calendar_type": "weekly"}""") };
        keyed.Headers.Add("Idempotency-Key", "job-key-1");
        using var created = await client.SendAsync(keyed);
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Accepted), await created.Content.ReadAsStringAsync());
        var keyedId = (await JsonAsync(created)).GetProperty("session_id").GetString()!;
        await WaitForAsync(client, keyedId, j => j.GetProperty("status").GetString() == "completed");

        using var again = new HttpRequestMessage(HttpMethod.Post, StartUrl) { Content = Body("""{"user_id": "job-2", "calendar_type": "weekly"}""") };
        again.Headers.Add("Idempotency-Key", "job-key-1");
        using var replay = await client.SendAsync(again);
        using var different = new HttpRequestMessage(HttpMethod.Post, StartUrl) { Content = Body("""{"user_id": "job-2", "calendar_type": "monthly"}""") };
        different.Headers.Add("Idempotency-Key", "job-key-1");
        using var conflict = await client.SendAsync(different);
        Assert.Multiple(async () =>
        {
            Assert.That(replay.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            Assert.That((await JsonAsync(replay)).GetProperty("session_id").GetString(), Is.EqualTo(keyedId));
            Assert.That(conflict.StatusCode, Is.EqualTo(HttpStatusCode.UnprocessableEntity));
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_jobs WHERE user_id = 'job-2'"), Is.EqualTo(2));
        });
    }

    [Test]
    public async Task ACancelOnTheOtherNodeStopsTheRunBeforeItsNextStepWithNothingStored()
    {
        await SeedStrategyAsync("job-3");
        await using var a = new ApiFactory("job-node-a", Workers("00:00:00.400"));
        await using var b = new ApiFactory("job-node-b");
        using var clientA = a.CreateClient();
        using var clientB = b.CreateClient();
        var sessionId = (await StartAsync(clientA, "job-3")).GetProperty("session_id").GetString()!;
        await WaitForAsync(clientB, sessionId, j => j.GetProperty("current_step").GetInt32() >= 2);

        using var cancel = await clientB.DeleteAsync($"{ApiRoot}/calendar-generation/cancel/{sessionId}");
        Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.OK), await cancel.Content.ReadAsStringAsync());
        var cancelled = await JsonAsync(cancel);
        var stepAtCancel = cancelled.GetProperty("current_step").GetInt32();

        // Long enough for several more steps, had the run not stopped.
        await Task.Delay(1500);
        var job = await ProgressAsync(clientA, sessionId);
        using var twice = await clientA.DeleteAsync($"{ApiRoot}/calendar-generation/cancel/{sessionId}");
        Assert.Multiple(async () =>
        {
            Assert.That(cancelled.GetProperty("status").GetString(), Is.EqualTo("cancelled"));
            Assert.That(job.GetProperty("status").GetString(), Is.EqualTo("cancelled"));
            Assert.That(job.GetProperty("current_step").GetInt32(), Is.LessThanOrEqualTo(stepAtCancel + 1));
            Assert.That(job.GetProperty("calendar_id").ValueKind, Is.EqualTo(JsonValueKind.Null));
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'job-3'"), Is.Zero);
            Assert.That(twice.StatusCode, Is.EqualTo(HttpStatusCode.Conflict));
            Assert.That(twice.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        });

        var events = await StreamAsync(clientB, sessionId);
        Assert.That(events[^1].Type, Is.EqualTo("cancelled"));
    }

    [Test]
    public async Task ARunThatKeepsFailingIsRetriedThenFailsWithTheReasonAndStoresNothing()
    {
        await SeedStrategyAsync("job-4");
        // A real database error on every store of this user's calendar.
        await Testing.ExecuteAsync("""
            CREATE OR REPLACE FUNCTION test_refuse_calendar() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.user_id = 'job-4' THEN RAISE EXCEPTION 'calendar store refused by the test'; END IF; RETURN NEW; END $$;
            DROP TRIGGER IF EXISTS test_refuse_calendar ON generated_calendars;
            CREATE TRIGGER test_refuse_calendar BEFORE INSERT ON generated_calendars FOR EACH ROW EXECUTE FUNCTION test_refuse_calendar();
            """);
        try
        {
            await using var a = new ApiFactory("job-node-a", Workers(more: ("CalendarJobs:MaxAttempts", "2")));
            using var client = a.CreateClient();
            var sessionId = (await StartAsync(client, "job-4")).GetProperty("session_id").GetString()!;
            var job = await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "failed");
            Assert.Multiple(async () =>
            {
                Assert.That(job.GetProperty("attempt").GetInt32(), Is.EqualTo(2));
                Assert.That(job.GetProperty("error").GetString(), Does.StartWith("Gave up after 2 attempts").And.Contain("calendar store refused by the test"));
                Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'job-4'"), Is.Zero);
                Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events e JOIN content_strategies s ON s.id = e.strategy_id WHERE s.user_id = 'job-4'"), Is.Zero);
            });
        }
        finally
        {
            await Testing.ExecuteAsync("DROP TRIGGER IF EXISTS test_refuse_calendar ON generated_calendars; DROP FUNCTION IF EXISTS test_refuse_calendar();");
        }
    }

    [Test]
    public async Task AUserWithoutAStrategyOrAnUnknownOrMalformedSessionIsAProblem()
    {
        using var client = Testing.CreateClient();
        using var noStrategy = await client.PostJsonAsync(StartUrl, """{"user_id": "job-nobody", "calendar_type": "monthly"}""");
        await AssertProblemAsync(noStrategy, HttpStatusCode.NotFound);
        using var badBody = await client.PostJsonAsync(StartUrl, """{"user_id": "job-nobody", "calendar_type": "decade"}""");
        await AssertProblemAsync(badBody, HttpStatusCode.BadRequest);
        using var unknown = await client.GetAsync($"{ApiRoot}/calendar-generation/progress/{Guid.NewGuid()}");
        await AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        using var unknownStream = await client.GetAsync($"{ApiRoot}/calendar-generation/progress/{Guid.NewGuid()}/stream");
        await AssertProblemAsync(unknownStream, HttpStatusCode.NotFound);
        using var unknownCancel = await client.DeleteAsync($"{ApiRoot}/calendar-generation/cancel/{Guid.NewGuid()}");
        await AssertProblemAsync(unknownCancel, HttpStatusCode.NotFound);
        using var malformed = await client.GetAsync($"{ApiRoot}/calendar-generation/progress/not-a-uuid");
        await AssertProblemAsync(malformed, HttpStatusCode.BadRequest);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_jobs"), Is.Zero);
    }

    [Test]
    public async Task AnEndUserSeesAndCancelsOnlyTheirOwnJobs()
    {
        await SeedStrategyAsync("job-owner");
        using var service = Testing.CreateClient();
        var sessionId = (await StartAsync(service, "job-owner")).GetProperty("session_id").GetString()!;
        using var other = Testing.Factory.CreateClient(ApiFactory.UserToken("job-intruder"));
        using var owner = Testing.Factory.CreateClient(ApiFactory.UserToken("job-owner"));
        using var peek = await other.GetAsync($"{ApiRoot}/calendar-generation/progress/{sessionId}");
        using var cancel = await other.DeleteAsync($"{ApiRoot}/calendar-generation/cancel/{sessionId}");
        using var mine = await owner.GetAsync($"{ApiRoot}/calendar-generation/progress/{sessionId}");
        Assert.Multiple(() =>
        {
            Assert.That(peek.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            Assert.That(mine.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [Test]
    public async Task FinishedJobsAreDeletedAfterTheirRetention()
    {
        await SeedStrategyAsync("job-old");
        await using var a = new ApiFactory("job-node-a", Workers(more: [("CalendarJobs:Retention", "00:00:01"), ("CalendarJobs:CleanupInterval", "00:00:00.500")]));
        using var client = a.CreateClient();
        var sessionId = (await StartAsync(client, "job-old")).GetProperty("session_id").GetString()!;
        await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "completed");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_jobs") > 0)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "the finished job was never deleted");
            await Task.Delay(200);
        }

        // The calendar the job stored stays: retention is about the job record only.
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'job-old'"), Is.EqualTo(1));
    }

    [Test]
    public async Task ACleanupIntervalOfZeroSwitchesTheCleanupOffAndANegativeOneIsRefusedByName()
    {
        // Zero means "no cleanup", as CacheAdmin__CleanupInterval: the node starts, runs jobs and keeps finished ones.
        await SeedStrategyAsync("job-keep");
        await using (var node = new ApiFactory("job-node-a", Workers(more: [("CalendarJobs:Retention", "00:00:00.001"), ("CalendarJobs:CleanupInterval", "00:00:00")])))
        {
            using var client = node.CreateClient();
            var sessionId = (await StartAsync(client, "job-keep")).GetProperty("session_id").GetString()!;
            await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "completed");
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_jobs"), Is.EqualTo(1));
        }

        var (exitCode, output) = await ApiProcess.RunUntilExitAsync(new Dictionary<string, string?> { ["CalendarJobs__CleanupInterval"] = "-00:00:01" });
        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("CalendarJobs__CleanupInterval"));
    }

    internal sealed record ServerEvent(string Type, string Data);

    /// <summary>Reads a progress stream to its end (bounded), as a browser's EventSource would.</summary>
    internal static async Task<List<ServerEvent>> StreamAsync(HttpClient client, string sessionId)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var response = await client.GetAsync($"{ApiRoot}/calendar-generation/progress/{sessionId}/stream", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        var events = new List<ServerEvent>();
        await foreach (var item in System.Net.ServerSentEvents.SseParser.Create(await response.Content.ReadAsStreamAsync(timeout.Token)).EnumerateAsync(timeout.Token))
        {
            events.Add(new ServerEvent(item.EventType, item.Data));
        }

        return events;
    }
}
