using System.Diagnostics;
using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using Dapper;
using static ContentPlanning.Api.Tests.CalendarJobs.CalendarJobTests;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarJobs;

/// <summary>Two API processes; the one running a job is killed (SIGKILL) mid-run; the other takes the job over.</summary>
public sealed class TakeoverTests : DatabaseTest
{
    private static Dictionary<string, string> JobSettings(string stepDuration) => new()
    {
        ["CalendarJobs__WorkersPerNode"] = "1",
        ["CalendarJobs__MinimumStepDuration"] = stepDuration,
        ["CalendarJobs__LeaseDuration"] = "00:00:03",
        ["CalendarJobs__QueuePollInterval"] = "00:00:00.500",
    };

    [Test]
    public async Task AJobWhoseNodeIsKilledMidRunIsFinishedByTheOtherNodeWithExactlyOneCalendar()
    {
        await SeedStrategyAsync("takeover-1");
        // Slow steps on the first node, so the test sees the job running long before it could finish.
        await using var first = await ApiProcess.StartAsync("takeover-a", JobSettings("00:00:02"));
        using var firstClient = first.CreateClient();
        var sessionId = (await StartAsync(firstClient, "takeover-1", HttpStatusCode.Accepted, ", \"pieces_per_day\": 3")).GetProperty("session_id").GetString()!;
        await WaitForAsync(firstClient, sessionId, j => j.GetProperty("status").GetString() == "running" && j.GetProperty("current_step").GetInt32() >= 1);

        // Hold the job where it is: its next step write (and its completion) waits on this row lock, so the first node
        // cannot finish the job before it is killed, however slow the machine is.
        await using var hold = await Testing.DataSource.OpenConnectionAsync();
        await using var held = await hold.BeginTransactionAsync();
        await hold.ExecuteAsync("SELECT 1 FROM calendar_jobs WHERE session_id = @Id FOR UPDATE", new { Id = Guid.Parse(sessionId) }, held);

        // The second node is up before the first dies, as in a cluster.
        await using var second = await ApiProcess.StartAsync("takeover-b", JobSettings("00:00:00"));
        using var secondClient = second.CreateClient();
        var before = await ProgressAsync(secondClient, sessionId);
        Assert.That(before.GetProperty("node").GetString(), Is.EqualTo("takeover-a"), "the first node runs the job");
        Assert.That(before.GetProperty("status").GetString(), Is.EqualTo("running"));

        var killed = Stopwatch.StartNew();
        first.Kill();
        await held.RollbackAsync();
        var taken = await WaitForAsync(secondClient, sessionId, j => j.GetProperty("attempt").GetInt32() >= 2, TimeSpan.FromSeconds(90));
        var takeover = killed.Elapsed;
        var done = await WaitForAsync(secondClient, sessionId, j => j.GetProperty("status").GetString() is "completed" or "failed", TimeSpan.FromSeconds(120));
        TestContext.Progress.WriteLine($"takeover: node killed at step {before.GetProperty("current_step").GetInt32()}, job taken over after {takeover.TotalSeconds:0.0} s (lease 3 s)");

        Assert.Multiple(async () =>
        {
            Assert.That(taken.GetProperty("node").GetString(), Is.EqualTo("takeover-b"));
            Assert.That(done.GetProperty("status").GetString(), Is.EqualTo("completed"), second.Output);
            Assert.That(done.GetProperty("attempt").GetInt32(), Is.EqualTo(2));
            Assert.That(done.GetProperty("step_results").GetArrayLength(), Is.EqualTo(12));
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'takeover-1'"), Is.EqualTo(1));
            Assert.That(await Testing.ScalarAsync<long>("""
                SELECT count(*) FROM calendar_events e JOIN generated_calendars c ON c.id = e.calendar_id WHERE c.user_id = 'takeover-1'
                """), Is.EqualTo(await Testing.ScalarAsync<long>("SELECT (result ->> 'event_count')::bigint FROM generated_calendars WHERE user_id = 'takeover-1'")));
        });
    }
}
