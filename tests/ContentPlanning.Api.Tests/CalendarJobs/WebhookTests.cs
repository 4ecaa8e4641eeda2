using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ContentPlanning.Api.Features.CalendarJobs;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using static ContentPlanning.Api.Tests.CalendarJobs.CalendarJobTests;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarJobs;

/// <summary>Completion webhooks delivered to a real HTTP receiver on loopback.</summary>
public sealed class WebhookTests : DatabaseTest
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    private static Dictionary<string, string?> Settings(bool allowPrivate = true, string maxAttempts = "8", string stepDuration = "00:00:00") => new()
    {
        ["CalendarJobs:WorkersPerNode"] = "2",
        ["CalendarJobs:QueuePollInterval"] = "00:00:00.500",
        ["CalendarJobs:MinimumStepDuration"] = stepDuration,
        ["Webhooks:SigningSecret"] = "whsec_" + Convert.ToBase64String(Key),
        ["Webhooks:AllowInsecureHttp"] = "true",
        ["Webhooks:AllowPrivateNetworks"] = allowPrivate ? "true" : "false",
        ["Webhooks:RetryBaseDelay"] = "00:00:00.300",
        ["Webhooks:MaxAttempts"] = maxAttempts,
    };

    [Test]
    public async Task ACompletedJobIsPostedSignedAndRetriedAfterA500()
    {
        await SeedStrategyAsync("hook-1");
        await using var receiver = await Receiver.StartAsync(500, 200);
        await using var node = new ApiFactory("hook-node", Settings());
        using var client = node.CreateClient();
        var sessionId = (await StartAsync(client, "hook-1", extra: $$""", "callback_url": "{{receiver.Url}}" """)).GetProperty("session_id").GetString()!;
        var job = await WaitForAsync(client, sessionId, j => j.GetProperty("webhook").ValueKind == JsonValueKind.Object
            && j.GetProperty("webhook").GetProperty("status").GetString() != "pending");

        var calls = receiver.Calls.ToList();
        var body = JsonDocument.Parse(calls[^1].Body).RootElement;
        Assert.Multiple(() =>
        {
            Assert.That(job.GetProperty("webhook").GetProperty("status").GetString(), Is.EqualTo("delivered"));
            Assert.That(job.GetProperty("webhook").GetProperty("attempts").GetInt32(), Is.EqualTo(2));
            Assert.That(job.GetProperty("webhook").GetProperty("last_status_code").GetInt32(), Is.EqualTo(200));
            Assert.That(calls, Has.Count.EqualTo(2));
            Assert.That(calls.Select(c => c.Id).Distinct().Count(), Is.EqualTo(1), "a retry sends the same webhook-id");
            Assert.That(calls.All(Verifies), "every attempt is signed per Standard Webhooks");
            Assert.That(body.GetProperty("type").GetString(), Is.EqualTo("calendar.generation.completed"));
            Assert.That(body.GetProperty("session_id").GetString(), Is.EqualTo(sessionId));
            Assert.That(body.GetProperty("user_id").GetString(), Is.EqualTo("hook-1"));
            Assert.That(body.GetProperty("calendar_id").GetInt64(), Is.EqualTo(job.GetProperty("calendar_id").GetInt64()));
            Assert.That(body.TryGetProperty("occurred_at", out _));
        });
    }

    [Test]
    public async Task ACancelledJobsWebhookThatNeverSucceedsEndsFailedAfterItsAttempts()
    {
        await SeedStrategyAsync("hook-2");
        await using var receiver = await Receiver.StartAsync(503);
        await using var node = new ApiFactory("hook-node", Settings(maxAttempts: "3", stepDuration: "00:00:00.300"));
        using var client = node.CreateClient();
        var sessionId = (await StartAsync(client, "hook-2", extra: $$""", "callback_url": "{{receiver.Url}}" """)).GetProperty("session_id").GetString()!;
        using (var cancel = await client.DeleteAsync($"{ApiRoot}/calendar-generation/cancel/{sessionId}"))
        {
            Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        var job = await WaitForAsync(client, sessionId, j => j.GetProperty("webhook").ValueKind == JsonValueKind.Object
            && j.GetProperty("webhook").GetProperty("status").GetString() == "failed");
        var calls = receiver.Calls.ToList();
        Assert.Multiple(() =>
        {
            Assert.That(job.GetProperty("webhook").GetProperty("attempts").GetInt32(), Is.EqualTo(3));
            Assert.That(job.GetProperty("webhook").GetProperty("last_status_code").GetInt32(), Is.EqualTo(503));
            Assert.That(calls, Has.Count.EqualTo(3));
            Assert.That(JsonDocument.Parse(calls[0].Body).RootElement.GetProperty("type").GetString(), Is.EqualTo("calendar.generation.cancelled"));
        });
    }

    [Test]
    public async Task BadOrForbiddenCallbackUrlsAreRefusedAtStart()
    {
        await SeedStrategyAsync("hook-3");
        await using var strict = new ApiFactory("hook-strict", Settings(allowPrivate: false));
        using var client = strict.CreateClient();
        foreach (var url in new[] { "http://127.0.0.1:9/hooks", "https://169.254.169.254/latest", "http://10.1.2.3/x", "http://[::1]/x", "ftp://example.org/x", "not a url", "https://user:pw@example.org/x" })
        {
            using var response = await client.PostJsonAsync(ApiRoot + "/calendar-generation/start",
                $$"""{"user_id": "hook-3", "calendar_type": "monthly", "callback_url": {{JsonSerializer.Serialize(url)}}}""");
            await AssertProblemAsync(response, HttpStatusCode.BadRequest);
            Assert.That(await ValidationErrorFieldsAsync(response), Does.Contain("callback_url"), url);
        }

        // The shared test node has no signing secret and no http allowance: a callback is refused there too.
        using var shared = Testing.CreateClient();
        using var plain = await shared.PostJsonAsync(ApiRoot + "/calendar-generation/start",
            """{"user_id": "hook-3", "calendar_type": "monthly", "callback_url": "https://example.org/hooks"}""");
        await AssertProblemAsync(plain, HttpStatusCode.BadRequest);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_jobs"), Is.Zero);
    }

    [Test]
    public async Task AReceiverStreamingAHugeBodyIsNotReadAndTheAttemptEndsAtItsStatus()
    {
        await SeedStrategyAsync("hook-huge");
        await using var receiver = await Receiver.StartAsync(200);
        receiver.StreamHugeBody = true;
        var settings = Settings(maxAttempts: "1");
        settings["Webhooks:Timeout"] = "00:00:05";
        await using var node = new ApiFactory("hook-node", settings);
        using var client = node.CreateClient();
        var sessionId = (await StartAsync(client, "hook-huge", extra: $$""", "callback_url": "{{receiver.Url}}" """)).GetProperty("session_id").GetString()!;

        // The receiver answers 200 with Content-Length 1.8 GB and sends 1 MiB every 50 ms (90 s in all): an attempt that
        // read the body would hit Webhooks__Timeout (5 s) and end failed, not delivered.
        var job = await WaitForAsync(client, sessionId, j => j.GetProperty("webhook").ValueKind == JsonValueKind.Object
            && j.GetProperty("webhook").GetProperty("status").GetString() != "pending");
        Assert.That(await Task.WhenAny(receiver.BodyAbandoned.Task, Task.Delay(TimeSpan.FromSeconds(60))), Is.SameAs(receiver.BodyAbandoned.Task),
            "the node closes the connection instead of reading the body");
        Assert.Multiple(() =>
        {
            Assert.That(job.GetProperty("webhook").GetProperty("status").GetString(), Is.EqualTo("delivered"));
            Assert.That(job.GetProperty("webhook").GetProperty("last_status_code").GetInt32(), Is.EqualTo(200));
            // What the receiver got out before the node hung up: socket buffers at most, far from the announced 1.8 GB.
            Assert.That(receiver.BodyBytesSent, Is.LessThan(64L << 20));
        });
    }

    [TestCase("127.0.0.1", true)]
    [TestCase("10.20.30.40", true)]
    [TestCase("172.16.0.1", true)]
    [TestCase("192.168.1.1", true)]
    [TestCase("169.254.169.254", true)]
    [TestCase("100.100.100.200", true)]
    [TestCase("0.0.0.0", true)]
    [TestCase("::1", true)]
    [TestCase("fd00:ec2::254", true)]
    [TestCase("fe80::1", true)]
    [TestCase("::ffff:10.0.0.1", true)]
    [TestCase("93.184.215.14", false)]
    [TestCase("2606:2800:21f:cb07:6820:80da:af6b:8b2c", false)]
    public void PrivateAddressesAreRecognised(string address, bool isPrivate) =>
        Assert.That(CallbackAddresses.IsPrivate(IPAddress.Parse(address)), Is.EqualTo(isPrivate));

    private static bool Verifies(Call call)
    {
        var expected = "v1," + Convert.ToBase64String(HMACSHA256.HashData(Key, Encoding.UTF8.GetBytes($"{call.Id}.{call.Timestamp}.{call.Body}")));
        return call.Signature.Split(' ').Contains(expected)
            && Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - long.Parse(call.Timestamp, System.Globalization.CultureInfo.InvariantCulture)) < 300;
    }

    private sealed record Call(string Id, string Timestamp, string Signature, string Body);

    /// <summary>A webhook receiver on a free loopback port answering the given statuses in turn (the last one repeats).</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private Receiver(WebApplication app) => _app = app;

        public ConcurrentQueue<Call> Calls { get; } = new();

        public string Url => _app.Urls.First() + "/hooks";

        /// <summary>Answer with a huge body sent slowly (a hostile receiver) instead of an empty one.</summary>
        public bool StreamHugeBody { get; set; }

        private long _bodyBytesSent;

        public long BodyBytesSent => Interlocked.Read(ref _bodyBytesSent);

        /// <summary>Set when the caller stopped taking the huge body (closed the connection).</summary>
        public TaskCompletionSource BodyAbandoned { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public static async Task<Receiver> StartAsync(params int[] statuses)
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hooks", async (HttpContext http) =>
            {
                using var reader = new StreamReader(http.Request.Body);
                receiver.Calls.Enqueue(new Call(http.Request.Headers["webhook-id"].ToString(), http.Request.Headers["webhook-timestamp"].ToString(),
                    http.Request.Headers["webhook-signature"].ToString(), await reader.ReadToEndAsync()));
                var status = statuses[Math.Min(receiver.Calls.Count, statuses.Length) - 1];
                if (receiver.StreamHugeBody)
                {
                    await receiver.SendHugeBodyAsync(http, status);
                    return Results.Empty;
                }

                return Results.StatusCode(status);
            });
            await app.StartAsync();
            return receiver;
        }

        private async Task SendHugeBodyAsync(HttpContext http, int status)
        {
            http.Response.StatusCode = status;
            http.Response.ContentLength = 1_887_436_800;
            var chunk = new byte[1 << 20];
            try
            {
                while (!http.RequestAborted.IsCancellationRequested)
                {
                    await http.Response.Body.WriteAsync(chunk, http.RequestAborted);
                    Interlocked.Add(ref _bodyBytesSent, chunk.Length);
                    await Task.Delay(50, http.RequestAborted);
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }

            BodyAbandoned.TrySetResult();
            http.Abort();
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
