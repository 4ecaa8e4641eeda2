using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ContentPlanning.Api.Tests.Infrastructure;
using Npgsql;
using static ContentPlanning.Api.Tests.Infrastructure.ReadLoad;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Faults;

/// <summary>
/// Process-level faults under steady load from the test: two API processes, and a Redis or PostgreSQL of the test's
/// own that it kills or stops (so no other test loses its servers). Each test prints what it did. (A node killed while it
/// runs a calendar job: CalendarJobs/TakeoverTests.)
/// </summary>
public sealed class FaultSuiteTests : DatabaseTest
{
    private static readonly string RepositoryRoot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    [Test]
    public async Task RedisKilledMidLoadFailsNoRequestAndTheNodesConvergeAfterItsRestart()
    {
        await SeedAsync(TestEnvironment.PostgresConnectionString);
        var port = TestEnvironment.FreePort();
        var redis = RedisServers.Start(port);
        try
        {
            var settings = new Dictionary<string, string> { ["ConnectionStrings__Redis"] = $"127.0.0.1:{port}" };
            await using var a = await ApiProcess.StartAsync("fault-a", settings);
            await using var b = await ApiProcess.StartAsync("fault-b", settings);
            using var clientA = a.CreateClient();
            using var clientB = b.CreateClient();
            var load = new ReadLoad([clientA, clientB]);

            await load.RunAsync(TimeSpan.FromSeconds(2));
            redis.Kill(entireProcessTree: true);
            await redis.WaitForExitAsync();
            var outage = load.RunAsync(TimeSpan.FromSeconds(4));

            // A write on A while Redis is down: B hears of it through PostgreSQL's NOTIFY, not the (dead) backplane.
            await PutIndustryAsync(clientA, "fault-user-1", "written-during-outage");
            load.Expect("fault-user-1", "written-during-outage", TimeSpan.FromSeconds(1));
            await Task.Delay(1200);
            var duringOutage = await ReadAsync(clientB, "fault-user-1");
            await outage;

            redis = RedisServers.Start(port);
            await PutIndustryAsync(clientA, "fault-user-2", "written-after-restart");
            load.Expect("fault-user-2", "written-after-restart", TimeSpan.FromSeconds(5));
            var converged = Stopwatch.StartNew();
            string? seen;
            do
            {
                seen = (await ReadAsync(clientB, "fault-user-2")).Industry;
            }
            while (seen != "written-after-restart" && converged.Elapsed < TimeSpan.FromSeconds(5) && await Delay());

            await load.RunAsync(TimeSpan.FromSeconds(1));
            TestContext.Progress.WriteLine($"Redis SIGKILL: {load}, {load.Checked} answers checked against a write, {load.StaleAsFresh} stale-as-fresh; a write on A read on B {converged.Elapsed.TotalSeconds:0.0} s after Redis came back");
            Assert.Multiple(() =>
            {
                Assert.That(load.Failed, Is.Zero, string.Join("\n", load.Failures.Take(5)));
                // A floor that holds on a saturated machine too: the load ran through the outage at all.
                Assert.That(load.Sent, Is.GreaterThan(10));
                Assert.That(load.StaleAsFresh, Is.Zero, "answers not flagged stale that still showed a value overwritten before: " + string.Join("\n", load.StaleAnswers.Take(5)));
                Assert.That(load.Checked, Is.GreaterThan(0), "the load read the written users after their writes");
                Assert.That(duringOutage.Industry == "written-during-outage" || duringOutage.IsStale, Is.True,
                    $"B answered {duringOutage.Industry} (stale: {duringOutage.IsStale}) 1.2 s after a write it missed on the backplane");
                Assert.That(seen, Is.EqualTo("written-after-restart"), "the nodes converge within 5 s of Redis coming back");
            });
        }
        finally
        {
            RedisServers.Stop(redis);
        }
    }

    [Test]
    public async Task PostgresStoppedMidLoadServesWhatWasReadRefusesTheRestWith503AndRecovers()
    {
        var port = TestEnvironment.FreePort();
        var data = Path.Combine(Path.GetTempPath(), $"cp-fault-pg-{port}");
        await ServersAsync($"PG_FSYNC=off start_postgres '{data}' {port} && ensure_database {port} content_planning_faults");
        var connectionString = $"Host=127.0.0.1;Port={port};Username=app;Database=content_planning_faults;Timeout=3;Command Timeout=5";
        try
        {
            var settings = new Dictionary<string, string>
            {
                ["ConnectionStrings__Postgres"] = connectionString,
                // The shared test Redis, under a cache name of this test's own.
                ["Cache__Name"] = $"faults-{port}",
            };
            await using var a = await ApiProcess.StartAsync("fault-pg-a", settings);
            await using var b = await ApiProcess.StartAsync("fault-pg-b", settings);
            await SeedAsync(connectionString);
            using var clientA = a.CreateClient();
            using var clientB = b.CreateClient();
            var load = new ReadLoad([clientA, clientB]);
            // Until every user was read on every node (a loaded machine may need longer than the 2 s).
            await load.RunAsync(TimeSpan.FromSeconds(2), untilEachRead: true);
            Assert.That(load.EachRead, Is.True, "every user was read on every node before the stop: " + string.Join("\n", load.Failures.Take(5)));

            await ServersAsync($"stop_postgres '{data}'");
            var during = new ReadLoad([clientA, clientB]);
            await during.RunAsync(TimeSpan.FromSeconds(2));
            using var unseen = await clientA.GetAsync(ReadUrl("fault-unseen"));
            using var write = await clientB.PutJsonAsync($"{ApiRoot}/users/fault-user-3/profile", """{"industry": "while-down"}""");

            await ServersAsync($"PG_FSYNC=off start_postgres '{data}' {port}");
            var recovery = Stopwatch.StartNew();
            HttpStatusCode afterUnseen, afterWrite;
            do
            {
                using var read = await clientA.GetAsync(ReadUrl("fault-unseen-2"));
                using var put = await clientB.PutJsonAsync($"{ApiRoot}/users/fault-user-3/profile", """{"industry": "after-restart"}""");
                (afterUnseen, afterWrite) = (read.StatusCode, put.StatusCode);
            }
            while ((afterUnseen is not (HttpStatusCode.OK or HttpStatusCode.NotFound) || afterWrite != HttpStatusCode.OK)
                   && recovery.Elapsed < TimeSpan.FromSeconds(20) && await Delay());

            TestContext.Progress.WriteLine($"PostgreSQL stopped: before {load}; while down {during}; recovered in {recovery.Elapsed.TotalSeconds:0.0} s");
            Assert.Multiple(async () =>
            {
                Assert.That(load.Failed, Is.Zero, string.Join("\n", load.Failures.Take(5)));
                Assert.That(during.Failed, Is.Zero, "users read before the stop keep getting 200: " + string.Join("\n", during.Failures.Take(5)));
                Assert.That(unseen.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "an unseen user while the database is down");
                Assert.That(unseen.Headers.RetryAfter, Is.Not.Null);
                Assert.That(unseen.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
                Assert.That(write.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), "a write while the database is down: " + await write.Content.ReadAsStringAsync());
                Assert.That(write.Headers.RetryAfter, Is.Not.Null);
                Assert.That(afterUnseen, Is.EqualTo(HttpStatusCode.OK).Or.EqualTo(HttpStatusCode.NotFound), "reads recover without restarting the API");
                Assert.That(afterWrite, Is.EqualTo(HttpStatusCode.OK), "writes recover without restarting the API");
            });
        }
        finally
        {
            await ServersAsync($"stop_postgres '{data}'; rm -rf '{data}'");
        }
    }

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }

    /// <summary>Runs a function of scripts/servers.sh (start_postgres, stop_postgres, ...), as the test command does.</summary>
    private static async Task ServersAsync(string script)
    {
        using var bash = Process.Start(new ProcessStartInfo("bash", ["-c", $". scripts/servers.sh && {script}"])
        {
            WorkingDirectory = RepositoryRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = bash.StandardOutput.ReadToEndAsync();
        var errors = bash.StandardError.ReadToEndAsync();
        await bash.WaitForExitAsync();
        Assert.That(bash.ExitCode, Is.Zero, $"{script}: {await output}{await errors}");
    }
}
