using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Playwright;
using static ContentPlanning.Api.Tests.CalendarJobs.CalendarJobTests;
using static ContentPlanning.Api.Tests.CalendarJobs.ProgressStreamTests;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Cluster;

/// <summary>
/// Three API nodes (no job workers, as the Kubernetes API Deployment) behind the nginx of deploy/nginx, with a 3 s read
/// timeout on the stream and a 1 s heartbeat; job workers run in separate processes beside them when a test needs one.
/// </summary>
[NonParallelizable]
public sealed class NginxClusterTests : DatabaseTest
{
    private const int GenerationLimit = 10;

    // The browser's pages come from two real loopback servers (an origin the browser made up would count as public
    // network space, and Chromium refuses its requests to loopback whatever CORS says).
    private readonly PageServer _allowedPages = new();
    private readonly PageServer _refusedPages = new();

    private Dictionary<string, string> NodeSettings => new()
    {
        ["Auth__Mode"] = "jwt",
        ["Auth__Issuer"] = ApiFactory.Issuer,
        ["Auth__Audience"] = ApiFactory.Audience,
        ["Auth__SigningKey"] = ApiFactory.SigningKey,
        ["RateLimiting__CalendarGenerationPerMinute"] = GenerationLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["RateLimiting__CacheWarmPerMinute"] = "2",
        ["ForwardedHeaders__Enabled"] = "true",
        ["ForwardedHeaders__KnownProxies"] = "127.0.0.1",
        ["Cors__AllowedOrigins"] = _allowedPages.Origin,
        ["CalendarJobs__StreamHeartbeat"] = "00:00:01",
        ["CalendarJobs__WorkersPerNode"] = "0",
        ["Shutdown__Timeout"] = "00:00:10",
    };

    private NginxCluster _cluster = null!;

    [OneTimeSetUp]
    public async Task StartClusterAsync() => _cluster = await NginxCluster.StartAsync(3, "3s", NodeSettings);

    [OneTimeTearDown]
    public async Task StopClusterAsync()
    {
        await _cluster.DisposeAsync();
        _allowedPages.Dispose();
        _refusedPages.Dispose();
    }

    private Task<ApiProcess> StartWorkerAsync(string name, string stepDuration) =>
        ApiProcess.StartAsync(name, new Dictionary<string, string>(NodeSettings)
        {
            ["CalendarJobs__WorkersPerNode"] = "1",
            ["CalendarJobs__MinimumStepDuration"] = stepDuration,
            ["CalendarJobs__QueuePollInterval"] = "00:00:00.500",
        });

    [Test]
    public async Task OneCallerGetsExactlyTheLimitAcrossThreeNodes()
    {
        using var client = _cluster.CreateClient(ApiFactory.UserToken("cluster-limit"));
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3 * GenerationLimit; i++)
        {
            using var response = await client.PostJsonAsync(ApiRoot + "/calendar-generation/generate-calendar", """{"user_id": "cluster-limit", "calendar_type": "weekly"}""");
            statuses.Add(response.StatusCode);
        }

        var upstreams = Regex.Matches(_cluster.AccessLog, @"generate-calendar HTTP/1\.1"" \d+ upstream=(\S+)").Select(m => m.Groups[1].Value).Distinct().Count();
        var admitted = statuses.Count(s => s != HttpStatusCode.TooManyRequests);
        TestContext.Progress.WriteLine($"cluster rate limit: {admitted} of {statuses.Count} admitted for one caller across {upstreams} nodes (limit {GenerationLimit}/min)");
        Assert.Multiple(() =>
        {
            Assert.That(upstreams, Is.EqualTo(3), "nginx spread the requests over the three nodes");
            Assert.That(admitted, Is.EqualTo(GenerationLimit), string.Join(", ", statuses));
            Assert.That(statuses.Skip(GenerationLimit), Is.All.EqualTo(HttpStatusCode.TooManyRequests));
        });
    }

    [Test]
    public async Task TwoForwardedClientsGetSeparateBudgets()
    {
        using var first = _cluster.CreateClient(sourceAddress: "127.0.0.2");
        using var second = _cluster.CreateClient(sourceAddress: "127.0.0.3");
        first.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        second.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        // A client cannot choose its partition: nginx replaces the X-Forwarded-For it sends.
        first.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.9");

        async Task<HttpStatusCode> WarmAsync(HttpClient client)
        {
            using var response = await client.PostJsonAsync(ApiRoot + "/calendar-generation/cache/warm", """{"user_ids": ["nobody"]}""");
            return response.StatusCode;
        }

        var firstStatuses = new[] { await WarmAsync(first), await WarmAsync(first), await WarmAsync(first) };
        var secondStatus = await WarmAsync(second);
        Assert.Multiple(() =>
        {
            Assert.That(firstStatuses, Is.EqualTo(new[] { HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests }));
            Assert.That(secondStatus, Is.EqualTo(HttpStatusCode.OK), "another client address has a budget of its own");
        });
    }

    [Test]
    public async Task AStreamSurvivesAQueuedJobAndStepGapsLongerThanNginxsReadTimeout()
    {
        await SeedStrategyAsync("cluster-gaps");
        using var client = _cluster.CreateClient(ApiFactory.UserToken("cluster-gaps"));
        var sessionId = (await StartAsync(client, "cluster-gaps")).GetProperty("session_id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        using var response = await OpenAsync(client, StreamUrl(sessionId), null, timeout.Token);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        ApiProcess? worker = null;
        var events = new List<SseFrame>();
        var heartbeats = 0;
        var longestGap = TimeSpan.Zero;
        var sinceLast = Stopwatch.StartNew();
        try
        {
            await foreach (var frame in SseReader.ReadAsync(await response.Content.ReadAsStreamAsync(timeout.Token), timeout.Token))
            {
                if (frame.Comment == "heartbeat" && ++heartbeats == 5 && worker is null)
                {
                    // Five heartbeats (over 4 s) while the job waited in the queue, through nginx's 3 s read timeout.
                    Assert.That(await Testing.ScalarAsync<string>("SELECT status FROM calendar_jobs"), Is.EqualTo("queued"));
#pragma warning disable CA2000 // Disposed in the finally below; the analyzer does not follow an assignment made inside the loop.
                    worker = await StartWorkerAsync("gap-worker", "00:00:04");
#pragma warning restore CA2000
                    sinceLast.Restart();
                }

                if (frame.IsEvent)
                {
                    events.Add(frame);
                    longestGap = sinceLast.Elapsed > longestGap ? sinceLast.Elapsed : longestGap;
                    sinceLast.Restart();
                }
            }
        }
        finally
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }
        }

        TestContext.Progress.WriteLine($"stream behind nginx (read timeout 3 s, heartbeat 1 s): longest gap between two events {longestGap.TotalSeconds:0.0} s, {heartbeats} heartbeats");
        Assert.Multiple(() =>
        {
            Assert.That(events.Select(e => e.Id), Is.EqualTo(Enumerable.Range(1, 12).Select(i => $"1.{i}").Append("1.end")), $"one connection, every event; the last: {events[^1].Type} {events[^1].Data}");
            Assert.That(events[^1].Type, Is.EqualTo("completed"));
            Assert.That(longestGap, Is.GreaterThan(TimeSpan.FromSeconds(3)), "steps took longer than nginx's read timeout");
        });
    }

    [Test]
    public async Task SigtermOfTheStreamingNodeEndsItsStreamAndTheClientResumesOnAnotherNode()
    {
        await SeedStrategyAsync("cluster-sigterm");
        await using var worker = await StartWorkerAsync("sigterm-worker", "00:00:00.700");
        using var client = _cluster.CreateClient(ApiFactory.UserToken("cluster-sigterm"));
        var sessionId = (await StartAsync(client, "cluster-sigterm")).GetProperty("session_id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));

        var ids = new List<string>();
        string? node = null;
        ApiProcess? stopped = null;
        var sigterm = new Stopwatch();
        TimeSpan streamEnded;
        using (var response = await OpenAsync(client, StreamUrl(sessionId), null, timeout.Token))
        {
            await foreach (var frame in SseReader.ReadAsync(await response.Content.ReadAsStreamAsync(timeout.Token), timeout.Token))
            {
                node ??= frame.Comment is { } comment && comment.StartsWith("node ", StringComparison.Ordinal) ? comment[5..] : null;
                if (frame.IsEvent)
                {
                    ids.Add(frame.Id!);
                }

                if (ids.Count == 3 && stopped is null)
                {
                    stopped = _cluster.Nodes.Single(n => n.NodeId == node);
                    sigterm.Start();
                    stopped.Terminate();
                }
            }

            streamEnded = sigterm.Elapsed;
        }

        Assert.That(stopped, Is.Not.Null, "the stream named its node and reached step 3");
        await stopped!.WaitForExitAsync(timeout.Token);
        var exited = sigterm.Elapsed;
        var firstPart = ids.ToList();

        // The client reconnects as EventSource does: the same URL with Last-Event-ID; nginx sends it to a running node.
        string? resumedOn = null;
        try
        {
            using var resumed = await OpenAsync(client, StreamUrl(sessionId), ids[^1], timeout.Token);
            Assert.That(resumed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            await foreach (var frame in SseReader.ReadAsync(await resumed.Content.ReadAsStreamAsync(timeout.Token), timeout.Token))
            {
                resumedOn ??= frame.Comment is { } comment && comment.StartsWith("node ", StringComparison.Ordinal) ? comment[5..] : null;
                if (frame.IsEvent)
                {
                    ids.Add(frame.Id!);
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            Assert.Fail($"the resumed stream (on {resumedOn}) never ended; events {string.Join(" ", ids)}; the job: " +
                $"{await ProgressAsync(client, sessionId)}\n{await HangfireStateAsync(sessionId)}\n{worker.Output}");
        }

        TestContext.Progress.WriteLine($"SIGTERM of {node} with an open stream: stream ended after {streamEnded.TotalSeconds:0.00} s, process exited after {exited.TotalSeconds:0.00} s (exit code {stopped.ExitCode}); " +
            $"events before: {string.Join(" ", firstPart)}; resumed on {resumedOn}: {string.Join(" ", ids.Skip(firstPart.Count))}");
        var exitCode = stopped.ExitCode;
        await _cluster.RestartAsync(stopped);
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.Zero, "a clean exit");
            Assert.That(resumedOn, Is.Not.EqualTo(node));
            Assert.That(ids, Is.EqualTo(Enumerable.Range(1, 12).Select(i => $"1.{i}").Append("1.end")), "no step missing, none twice");
            Assert.That(exited, Is.LessThan(TimeSpan.FromSeconds(10)), "within Shutdown__Timeout: the open stream did not hold the node");
        });
    }

    [Test]
    public async Task ABrowserOnAnAllowedOriginReceivesTheStreamAndAnotherOriginIsRefused()
    {
        const string chromium = "/usr/bin/chromium";
        Assert.That(File.Exists(chromium), "scripts/test.sh installs Debian's chromium");
        await SeedStrategyAsync("cluster-browser");
        await using var worker = await StartWorkerAsync("browser-worker", "00:00:00.100");
        var token = ApiFactory.UserToken("cluster-browser");
        using var client = _cluster.CreateClient(token);
        var started = await StartAsync(client, "cluster-browser");
        var sessionId = started.GetProperty("session_id").GetString()!;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync();
        const string script = """
            async ({ api, token, session, ticket }) => {
              const result = { preflighted: null, events: [] };
              try {
                // Authorization makes this a preflighted request: OPTIONS first, answered without a token.
                const answer = await fetch(`${api}/api/content-planning/calendar-generation/progress/${session}`, { headers: { Authorization: `Bearer ${token}` } });
                result.preflighted = (await answer.json()).stream_ticket ? 'ok' : 'no ticket';
              } catch (e) {
                result.preflighted = 'refused';
              }
              await new Promise(resolve => {
                const source = new EventSource(`${api}/api/content-planning/calendar-generation/progress/${session}/stream?ticket=${encodeURIComponent(ticket)}`);
                source.addEventListener('step', e => result.events.push(e.lastEventId));
                for (const type of ['completed', 'failed', 'cancelled']) {
                  source.addEventListener(type, e => { result.events.push(`${type} ${e.lastEventId}`); source.close(); resolve(); });
                }
                source.onerror = () => { result.events.push('error'); source.close(); resolve(); };
              });
              return JSON.stringify(result);
            }
            """;

        async Task<JsonElement> RunAsync(string origin)
        {
            await page.GotoAsync(origin + "/");
            // A fresh ticket per page, as the page itself would get from the start or progress answer.
            var ticket = (await ProgressAsync(client, sessionId)).GetProperty("stream_ticket").GetString();
            var json = await page.EvaluateAsync<string>(script, new { api = _cluster.Url, token, session = sessionId, ticket });
            return JsonDocument.Parse(json).RootElement;
        }

        var allowed = await RunAsync(_allowedPages.Origin);
        var refused = await RunAsync(_refusedPages.Origin);
        TestContext.Progress.WriteLine($"browser, allowed origin: {allowed}; other origin: {refused}");
        Assert.Multiple(() =>
        {
            Assert.That(allowed.GetProperty("preflighted").GetString(), Is.EqualTo("ok"));
            Assert.That(allowed.GetProperty("events").EnumerateArray().Select(e => e.GetString()),
                Is.EqualTo(Enumerable.Range(1, 12).Select(i => $"1.{i}").Append("completed 1.end")));
            Assert.That(refused.GetProperty("preflighted").GetString(), Is.EqualTo("refused"));
            Assert.That(refused.GetProperty("events").EnumerateArray().Select(e => e.GetString()), Is.EqualTo(new[] { "error" }));
        });
    }

    /// <summary>Serves one small HTML page on a loopback port: the origin of a browser test.</summary>
    private sealed class PageServer : IDisposable
    {
        private readonly System.Net.Sockets.TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();

        public PageServer()
        {
            _listener.Start();
            _ = ServeAsync();
        }

        public string Origin => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

        private async Task ServeAsync()
        {
            var page = "<!doctype html><title>planner</title>"u8.ToArray();
            var head = System.Text.Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {page.Length}\r\nConnection: close\r\n\r\n");
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    using var socket = await _listener.AcceptSocketAsync(_stop.Token);
                    var buffer = new byte[8192];
                    var read = 0;
                    while (read < buffer.Length && !System.Text.Encoding.ASCII.GetString(buffer, 0, read).Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var n = await socket.ReceiveAsync(buffer.AsMemory(read), _stop.Token);
                        if (n == 0)
                        {
                            break;
                        }

                        read += n;
                    }

                    await socket.SendAsync(head.Concat(page).ToArray(), _stop.Token);
                    socket.Shutdown(System.Net.Sockets.SocketShutdown.Both);
                }
                catch (Exception ex) when (ex is OperationCanceledException or System.Net.Sockets.SocketException or ObjectDisposedException)
                {
                }
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Stop();
            _stop.Dispose();
        }
    }
}
