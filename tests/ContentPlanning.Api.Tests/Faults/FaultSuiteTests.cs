using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ContentPlanning.Api.Tests.Infrastructure;
using Npgsql;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Faults;

/// <summary>
/// Process-level faults under steady load from the test: two API processes, and a Redis or PostgreSQL of the test's
/// own that it kills or stops (so no other test loses its servers). Each test prints what it did. (A node killed while it
/// runs a calendar job: CalendarJobs/TakeoverTests.)
/// </summary>
public sealed class FaultSuiteTests : DatabaseTest
{
    private const int Users = 12;

    private static readonly string RepositoryRoot = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    [Test]
    public async Task RedisKilledMidLoadFailsNoRequestAndTheNodesConvergeAfterItsRestart()
    {
        await SeedAsync(TestEnvironment.PostgresConnectionString);
        var port = TestEnvironment.FreePort();
        var redis = StartRedis(port);
        try
        {
            var settings = new Dictionary<string, string> { ["ConnectionStrings__Redis"] = $"127.0.0.1:{port}" };
            await using var a = await ApiProcess.StartAsync("fault-a", settings);
            await using var b = await ApiProcess.StartAsync("fault-b", settings);
            using var clientA = a.CreateClient();
            using var clientB = b.CreateClient();
            var load = new Load([clientA, clientB]);

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

            redis = StartRedis(port);
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
            redis.Kill(entireProcessTree: true);
            redis.Dispose();
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
            var load = new Load([clientA, clientB]);
            // Until every user was read on every node (a loaded machine may need longer than the 2 s).
            await load.RunAsync(TimeSpan.FromSeconds(2), untilEachRead: true);
            Assert.That(load.EachRead, Is.True, "every user was read on every node before the stop: " + string.Join("\n", load.Failures.Take(5)));

            await ServersAsync($"stop_postgres '{data}'");
            var during = new Load([clientA, clientB]);
            await during.RunAsync(TimeSpan.FromSeconds(2));
            using var unseen = await clientA.GetAsync(Api("fault-unseen"));
            using var write = await clientB.PutAsync($"{ApiRoot}/users/fault-user-3/profile", Body("""{"industry": "while-down"}"""));

            await ServersAsync($"PG_FSYNC=off start_postgres '{data}' {port}");
            var recovery = Stopwatch.StartNew();
            HttpStatusCode afterUnseen, afterWrite;
            do
            {
                using var read = await clientA.GetAsync(Api("fault-unseen-2"));
                using var put = await clientB.PutAsync($"{ApiRoot}/users/fault-user-3/profile", Body("""{"industry": "after-restart"}"""));
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

    private static string Api(string userId) => $"{ApiRoot}/calendar-generation/comprehensive-user-data?user_id={userId}";

    private static async Task<bool> Delay()
    {
        await Task.Delay(100);
        return true;
    }

    private static async Task PutIndustryAsync(HttpClient client, string userId, string industry)
    {
        using var response = await client.PutAsync($"{ApiRoot}/users/{userId}/profile", Body($$"""{"industry": "{{industry}}"}"""));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    private static async Task<(string? Industry, bool IsStale)> ReadAsync(HttpClient client, string userId)
    {
        using var response = await client.GetAsync(Api(userId));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var json = await JsonAsync(response);
        return (json.GetProperty("data").GetProperty("industry").GetString(), json.GetProperty("cache_info").GetProperty("is_stale").GetBoolean());
    }

    /// <summary>Users with a profile and an active strategy, written straight into the given database.</summary>
    private static async Task SeedAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO user_profiles (user_id, industry) SELECT 'fault-user-' || i, 'seeded' FROM generate_series(1, @n) i;
            WITH s AS (INSERT INTO content_strategies (user_id, name, industry) SELECT 'fault-user-' || i, 'Plan', 'retail' FROM generate_series(1, @n) i RETURNING id, user_id)
            INSERT INTO strategy_activation_status (strategy_id, user_id, status) SELECT id, user_id, 'active' FROM s;
            """, connection);
        command.Parameters.AddWithValue("n", Users);
        await command.ExecuteNonQueryAsync();
    }

    private static Process StartRedis(int port)
    {
        var redis = Process.Start(new ProcessStartInfo("redis-server", ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        redis.OutputDataReceived += (_, _) => { };
        redis.ErrorDataReceived += (_, _) => { };
        redis.BeginOutputReadLine();
        redis.BeginErrorReadLine();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            try
            {
                using var socket = new System.Net.Sockets.TcpClient();
                socket.Connect(IPAddress.Loopback, port);
                return redis;
            }
            catch (System.Net.Sockets.SocketException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(50);
            }
        }
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

    /// <summary>
    /// Steady reads of every seeded user's comprehensive data, spread over the nodes, four at a time. An answer begun more
    /// than a grace period after an expected write committed must show it or say it is stale (else: stale-as-fresh).
    /// </summary>
    private sealed class Load(IReadOnlyList<HttpClient> nodes)
    {
        private readonly ConcurrentDictionary<string, (string Industry, TimeSpan FreshBy)> _expected = new();
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly ConcurrentDictionary<(int Node, string UserId), bool> _read = new();
        private long _sent;
        private long _failed;
        private long _checked;
        private long _staleAsFresh;
        private long _slowestTicks;

        public ConcurrentQueue<string> StaleAnswers { get; } = new();

        public long Checked => Interlocked.Read(ref _checked);

        public long StaleAsFresh => Interlocked.Read(ref _staleAsFresh);

        /// <summary>Called after the write's 200 (it has committed): answers begun after the grace must reflect it.</summary>
        public void Expect(string userId, string industry, TimeSpan grace) => _expected[userId] = (industry, _clock.Elapsed + grace);

        public ConcurrentQueue<string> Failures { get; } = new();

        public long Sent => Interlocked.Read(ref _sent);

        public long Failed => Interlocked.Read(ref _failed);

        /// <summary>Whether every user has had a 200 from every node.</summary>
        public bool EachRead => _read.Count == Users * nodes.Count;

        /// <summary>
        /// Reads for the duration; with <paramref name="untilEachRead"/> also until every user had a 200 from every node
        /// (at most 30 s). Request i asks user i mod Users of node (i / Users) mod nodes, so every pair comes round.
        /// </summary>
        public async Task RunAsync(TimeSpan duration, bool untilEachRead = false)
        {
            var until = Stopwatch.StartNew();
            bool Go() => until.Elapsed < duration || (untilEachRead && !EachRead && until.Elapsed < TimeSpan.FromSeconds(30));
            await Task.WhenAll(Enumerable.Range(0, 4).Select(async worker =>
            {
                for (var i = worker; Go(); i += 4)
                {
                    var watch = Stopwatch.StartNew();
                    var userId = $"fault-user-{i % Users + 1}";
                    var node = i / Users % nodes.Count;
                    var begun = _clock.Elapsed;
                    try
                    {
                        using var response = await nodes[node].GetAsync(Api(userId));
                        if (response.StatusCode != HttpStatusCode.OK)
                        {
                            Interlocked.Increment(ref _failed);
                            Failures.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                        }
                        else
                        {
                            _read.TryAdd((node, userId), true);
                        }

                        if (response.StatusCode == HttpStatusCode.OK && _expected.TryGetValue(userId, out var expected) && begun > expected.FreshBy)
                        {
                            Interlocked.Increment(ref _checked);
                            var json = await JsonAsync(response);
                            var industry = json.GetProperty("data").GetProperty("industry").GetString();
                            if (industry != expected.Industry && !json.GetProperty("cache_info").GetProperty("is_stale").GetBoolean())
                            {
                                Interlocked.Increment(ref _staleAsFresh);
                                StaleAnswers.Enqueue($"node {node} answered {userId} with {industry}, not {expected.Industry}, as fresh");
                            }
                        }
                    }
                    catch (HttpRequestException ex)
                    {
                        Interlocked.Increment(ref _failed);
                        Failures.Enqueue(ex.Message);
                    }

                    Interlocked.Increment(ref _sent);
                    var ticks = watch.Elapsed.Ticks;
                    long slowest;
                    while (ticks > (slowest = Interlocked.Read(ref _slowestTicks)) && Interlocked.CompareExchange(ref _slowestTicks, ticks, slowest) != slowest)
                    {
                    }
                }
            }));
        }

        public override string ToString() => $"{Sent} requests, {Failed} failed, slowest {TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks)).TotalMilliseconds:0} ms";
    }
}
