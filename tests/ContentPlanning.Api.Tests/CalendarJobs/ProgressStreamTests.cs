using System.Net;
using System.Text.Json;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.CalendarJobs.CalendarJobTests;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarJobs;

/// <summary>The progress stream's mechanics: early headers, heartbeat, event ids, Last-Event-ID on any node, tickets, a failed re-read.</summary>
public sealed class ProgressStreamTests : DatabaseTest
{
    private static Dictionary<string, string?> Node(int workers, string stepDuration = "00:00:00", params (string Key, string Value)[] more)
    {
        var settings = new Dictionary<string, string?>
        {
            ["CalendarJobs:WorkersPerNode"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CalendarJobs:MinimumStepDuration"] = stepDuration,
            ["CalendarJobs:QueuePollInterval"] = "00:00:00.500",
            ["CalendarJobs:StreamHeartbeat"] = "00:00:00.300",
            ["CacheCoherence:Enabled"] = "false",
        };
        foreach (var (key, value) in more)
        {
            settings[key] = value;
        }

        return settings;
    }

    internal static string StreamUrl(string sessionId) => $"{ApiRoot}/calendar-generation/progress/{sessionId}/stream";

    internal static async Task<HttpResponseMessage> OpenAsync(HttpClient client, string url, string? lastEventId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (lastEventId is not null)
        {
            request.Headers.Add("Last-Event-ID", lastEventId);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    [Test]
    public async Task AStreamOpensAtOnceBeatsWhileQueuedAndResumesOnAnotherNodeAfterItsLastEventId()
    {
        await SeedStrategyAsync("stream-1");
        await using var idle = new ApiFactory("stream-idle", Node(workers: 0));
        using var idleClient = idle.CreateClient();
        var sessionId = (await StartAsync(idleClient, "stream-1")).GetProperty("session_id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        // Nobody runs the job yet: the headers, the retry hint and heartbeats still arrive.
        var frames = new List<SseFrame>();
        ApiFactory? worker = null;
        try
        {
            using (var first = await OpenAsync(idleClient, StreamUrl(sessionId), null, timeout.Token))
            {
                Assert.Multiple(() =>
                {
                    Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                    Assert.That(first.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
                    Assert.That(first.Headers.GetValues("X-Accel-Buffering"), Is.EqualTo(new[] { "no" }));
                    Assert.That(first.Headers.CacheControl?.NoCache, Is.True);
                });
                await using var reader = SseReader.ReadAsync(await first.Content.ReadAsStreamAsync(timeout.Token), timeout.Token).GetAsyncEnumerator(timeout.Token);
                while (frames.Count(f => f.IsEvent) < 4 && await reader.MoveNextAsync())
                {
                    frames.Add(reader.Current);
                    if (worker is null && reader.Current.Comment == "heartbeat")
                    {
                        Assert.That(await Testing.ScalarAsync<string>("SELECT status FROM calendar_jobs"), Is.EqualTo("queued"), "the heartbeat came while the job waited");
#pragma warning disable CA2000 // Disposed in the finally below; the analyzer does not follow an assignment made inside the loop.
                        worker = new ApiFactory("stream-worker", Node(workers: 1, stepDuration: "00:00:00.150"));
#pragma warning restore CA2000
                        _ = worker.Server;
                    }
                }
            }

            Assert.Multiple(() =>
            {
                Assert.That(frames[0].Retry, Is.GreaterThan(0), "a retry hint first");
                Assert.That(frames[1].Comment, Does.StartWith("node stream-idle"));
                Assert.That(frames.Where(f => f.IsEvent).Select(f => f.Id), Is.EqualTo(new[] { "1.1", "1.2", "1.3", "1.4" }));
            });

            // The client left after event 1.4 and reconnects to a third node.
            await using var other = new ApiFactory("stream-other", Node(workers: 0));
            using var otherClient = other.CreateClient();
            var rest = new List<SseFrame>();
            using (var resumed = await OpenAsync(otherClient, StreamUrl(sessionId), "1.4", timeout.Token))
            {
                await foreach (var frame in SseReader.ReadAsync(await resumed.Content.ReadAsStreamAsync(timeout.Token), timeout.Token))
                {
                    rest.Add(frame);
                }
            }

            var events = rest.Where(f => f.IsEvent).ToList();
            Assert.Multiple(() =>
            {
                Assert.That(events.Select(e => e.Id), Is.EqualTo(Enumerable.Range(5, 8).Select(i => $"1.{i}").Append("1.end")));
                Assert.That(events.SkipLast(1).Select(e => JsonDocument.Parse(e.Data!).RootElement.GetProperty("step_number").GetInt32()), Is.EqualTo(Enumerable.Range(5, 8)));
                Assert.That(events[^1].Type, Is.EqualTo("completed"));
            });

            // After the final event a reconnect is told to stop (EventSource closes on 204) instead of replaying the job.
            using var after = await OpenAsync(otherClient, StreamUrl(sessionId), "1.end", timeout.Token);
            Assert.That(after.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }
        finally
        {
            if (worker is not null)
            {
                await worker.DisposeAsync();
            }
        }
    }

    [Test]
    public async Task AStreamGoesOnThroughAFailedReReadOfTheJob()
    {
        // Issue 21 item 7: the stream node's pooled connections are killed mid-job; its next re-read fails once.
        await SeedStrategyAsync("stream-reread");
        var streamConnection = TestEnvironment.PostgresConnectionString + ";Application Name=cp-stream-reread";
        await using var streamer = new ApiFactory("stream-reader", Node(workers: 0, more: ("ConnectionStrings:Postgres", streamConnection)));
        await using var worker = new ApiFactory("stream-runner", Node(workers: 1, stepDuration: "00:00:00.400"));
        using var client = streamer.CreateClient();
        var sessionId = (await StartAsync(worker.CreateClient(), "stream-reread")).GetProperty("session_id").GetString()!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        using var response = await OpenAsync(client, StreamUrl(sessionId), null, timeout.Token);
        var events = new List<SseFrame>();
        var killed = 0;
        await foreach (var frame in SseReader.ReadAsync(await response.Content.ReadAsStreamAsync(timeout.Token), timeout.Token))
        {
            if (!frame.IsEvent)
            {
                continue;
            }

            events.Add(frame);
            if (events.Count == 2)
            {
                killed = await Testing.ScalarAsync<int>("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'cp-stream-reread'");
            }
        }

        Assert.Multiple(() =>
        {
            Assert.That(killed, Is.GreaterThan(0), "the stream node's pooled connections were terminated");
            Assert.That(events.Select(e => e.Type), Is.EqualTo(Enumerable.Repeat("step", 12).Append("completed")));
            Assert.That(events.Select(e => e.Id).Distinct().Count(), Is.EqualTo(13));
        });
    }

    [Test]
    public async Task AStreamTicketOpensOnlyItsJobsStreamWithoutAToken()
    {
        await SeedStrategyAsync("ticket-1");
        await SeedStrategyAsync("ticket-2");
        await using var node = new ApiFactory("ticket-node", Node(workers: 1));
        using var owner = node.CreateClient(ApiFactory.UserToken("ticket-1"));
        using var other = node.CreateClient(ApiFactory.UserToken("ticket-2"));
        var started = await StartAsync(owner, "ticket-1");
        var sessionId = started.GetProperty("session_id").GetString()!;
        var ticket = started.GetProperty("stream_ticket").GetString()!;
        var otherSession = (await StartAsync(other, "ticket-2")).GetProperty("session_id").GetString()!;
        using var anonymous = node.CreateAnonymousClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));

        var events = new List<SseFrame>();
        using (var stream = await OpenAsync(anonymous, StreamUrl(sessionId) + "?ticket=" + ticket, null, timeout.Token))
        {
            Assert.That(stream.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            await foreach (var frame in SseReader.ReadAsync(await stream.Content.ReadAsStreamAsync(timeout.Token), timeout.Token))
            {
                events.Add(frame);
            }
        }

        using var wrongJob = await anonymous.GetAsync(StreamUrl(otherSession) + "?ticket=" + ticket, timeout.Token);
        using var forged = await anonymous.GetAsync(StreamUrl(sessionId) + "?ticket=" + new string('A', 43), timeout.Token);
        using var none = await anonymous.GetAsync(StreamUrl(sessionId), timeout.Token);
        using var notAStream = await anonymous.GetAsync($"{ApiRoot}/calendar-generation/progress/{sessionId}?ticket={ticket}", timeout.Token);
        var progress = await ProgressAsync(owner, sessionId);
        Assert.Multiple(() =>
        {
            Assert.That(events.Where(f => f.IsEvent).Select(f => f.Type).Last(), Is.EqualTo("completed"));
            Assert.That(wrongJob.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a ticket opens its own job only");
            Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(none.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(notAStream.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), "a ticket is no token for other routes");
            Assert.That(progress.GetProperty("stream_ticket").GetString(), Has.Length.GreaterThan(40).And.Not.EqualTo(ticket), "the progress answer issues a fresh one");
        });
    }

    [Test]
    public async Task PreflightsFromAnAllowedOriginAreAnsweredWithoutATokenAndOthersGetNoCorsHeaders()
    {
        await using var node = new ApiFactory("cors-node", Node(workers: 0, more: ("Cors:AllowedOrigins:0", "https://planner.example.com")));
        using var client = node.CreateAnonymousClient();

        async Task<HttpResponseMessage> PreflightAsync(string origin)
        {
            using var request = new HttpRequestMessage(HttpMethod.Options, $"{ApiRoot}/calendar-generation/start");
            request.Headers.Add("Origin", origin);
            request.Headers.Add("Access-Control-Request-Method", "POST");
            request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            return await client.SendAsync(request);
        }

        using var allowed = await PreflightAsync("https://planner.example.com");
        using var refused = await PreflightAsync("https://evil.example.com");
        Assert.Multiple(() =>
        {
            Assert.That(allowed.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
            Assert.That(allowed.Headers.GetValues("Access-Control-Allow-Origin"), Is.EqualTo(new[] { "https://planner.example.com" }));
            Assert.That(allowed.Headers.GetValues("Access-Control-Allow-Headers").Single().ToLowerInvariant(), Does.Contain("authorization"));
            Assert.That(refused.Headers.Contains("Access-Control-Allow-Origin"), Is.False);
        });

        // Default: no origin is allowed.
        using var plain = Testing.Factory.CreateAnonymousClient();
        using var request = new HttpRequestMessage(HttpMethod.Options, $"{ApiRoot}/calendar-generation/start");
        request.Headers.Add("Origin", "https://planner.example.com");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        using var none = await plain.SendAsync(request);
        Assert.That(none.Headers.Contains("Access-Control-Allow-Origin"), Is.False);
    }
}
