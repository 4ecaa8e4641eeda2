using System.Diagnostics;
using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.CalendarJobs.CalendarJobTests;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Cluster;

/// <summary>SIGTERM: readiness turns unready first while the node still serves, then the node exits cleanly.</summary>
public sealed class ShutdownTests : DatabaseTest
{
    [Test]
    public async Task OnSigtermReadinessTurnsUnreadyWhileTheNodeStillServesThenItExitsCleanly()
    {
        await using var node = await ApiProcess.StartAsync("drain-node", new Dictionary<string, string>
        {
            ["Shutdown__DrainDelay"] = "00:00:03",
            ["Shutdown__Timeout"] = "00:00:10",
        });
        using var client = node.CreateClient();
        using (var before = await client.GetAsync("/health/ready"))
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        node.Terminate();
        HttpStatusCode? ready = null, live = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ready != HttpStatusCode.ServiceUnavailable)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "readiness never turned unready");
            Assert.That(node.HasExited, Is.False, "the node stopped before readiness said so");
            using var answer = await client.GetAsync("/health/ready");
            ready = answer.StatusCode;
        }

        using (var liveness = await client.GetAsync("/health/live"))
        {
            live = liveness.StatusCode;
        }

        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await node.WaitForExitAsync(exit.Token);
        Assert.Multiple(() =>
        {
            Assert.That(live, Is.EqualTo(HttpStatusCode.OK), "alive (not restarted) while it drains");
            Assert.That(node.ExitCode, Is.Zero, node.Output);
        });
    }

    [Test]
    public async Task OnSigtermAWorkerHandsItsRunningJobBackAndAnotherWorkerFinishesIt()
    {
        var settings = new Dictionary<string, string>
        {
            ["CalendarJobs__WorkersPerNode"] = "1",
            ["CalendarJobs__MinimumStepDuration"] = "00:00:01",
            ["CalendarJobs__QueuePollInterval"] = "00:00:00.500",
            ["Shutdown__Timeout"] = "00:00:10",
        };
        await SeedStrategyAsync("drain-job");
        await using var a = await ApiProcess.StartAsync("drain-worker-a", settings);
        await using var b = await ApiProcess.StartAsync("drain-worker-b", settings);
        using var client = a.CreateClient();
        var sessionId = (await StartAsync(client, "drain-job")).GetProperty("session_id").GetString()!;
        var running = await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "running" && j.GetProperty("current_step").GetInt32() >= 2);
        var (runner, other) = running.GetProperty("node").GetString() == a.NodeId ? (a, b) : (b, a);

        var stopping = Stopwatch.StartNew();
        runner.Terminate();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await runner.WaitForExitAsync(exit.Token);
        var exited = stopping.Elapsed;
        using var otherClient = other.CreateClient();
        var done = await WaitForAsync(otherClient, sessionId, j => j.GetProperty("status").GetString() is "completed" or "failed", TimeSpan.FromSeconds(90));
        TestContext.Progress.WriteLine($"worker SIGTERM mid-job (step {running.GetProperty("current_step").GetInt32()}): {runner.NodeId} exited after {exited.TotalSeconds:0.00} s; " +
            $"the job finished on {done.GetProperty("node").GetString()} (attempt {done.GetProperty("attempt").GetInt32()})");
        Assert.Multiple(async () =>
        {
            Assert.That(runner.ExitCode, Is.Zero, runner.Output);
            Assert.That(exited, Is.LessThan(TimeSpan.FromSeconds(10)), "within Shutdown__Timeout");
            Assert.That(done.GetProperty("status").GetString(), Is.EqualTo("completed"), other.Output);
            Assert.That(done.GetProperty("node").GetString(), Is.EqualTo(other.NodeId));
            Assert.That(done.GetProperty("attempt").GetInt32(), Is.EqualTo(2), "the interrupted run counted as one attempt, the handed-back run as the next");
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'drain-job'"), Is.EqualTo(1));
        });
    }

    [Test]
    public async Task AStopThatOverrunsItsTimeoutIsLoggedAndExitsZeroNotAsAnUnhandledException()
    {
        // 50 ms cannot hold a running job's hand-back: Hangfire's StopAsync is cancelled and throws out of the host's stop.
        await SeedStrategyAsync("overrun-job");
        await using var node = await ApiProcess.StartAsync("overrun-worker", new Dictionary<string, string>
        {
            ["CalendarJobs__WorkersPerNode"] = "1",
            ["CalendarJobs__MinimumStepDuration"] = "00:00:01",
            ["Shutdown__Timeout"] = "00:00:00.050",
        });
        using var client = node.CreateClient();
        var sessionId = (await StartAsync(client, "overrun-job")).GetProperty("session_id").GetString()!;
        await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "running");

        node.Terminate();
        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(exit.Token);
        Assert.Multiple(() =>
        {
            Assert.That(node.ExitCode, Is.Zero, node.Output);
            Assert.That(node.Output, Does.Contain("The stop took longer than Shutdown__Timeout"));
            Assert.That(node.Output, Does.Not.Contain("Unhandled exception"));
        });
    }
}
