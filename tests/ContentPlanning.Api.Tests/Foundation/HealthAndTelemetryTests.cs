using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Foundation;

public sealed class HealthAndTelemetryTests
{
    [Test]
    public async Task LiveAnswersHealthy()
    {
        using var client = Testing.CreateClient();
        using var response = await client.GetAsync("/health/live");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(json.RootElement.GetProperty("status").GetString(), Is.EqualTo("healthy"));
    }

    [Test]
    public async Task ReadyReportsPostgresMigratedAndRedisConnected()
    {
        using var client = Testing.CreateClient();
        using var response = await client.GetAsync("/health/ready");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var checks = json.RootElement.GetProperty("checks");
        Assert.That(checks.GetProperty("postgres").GetProperty("status").GetString(), Is.EqualTo("healthy"));
        Assert.That(checks.GetProperty("redis").GetProperty("status").GetString(), Is.EqualTo("healthy"));
        Assert.That(json.RootElement.GetProperty("status").GetString(), Is.EqualTo("healthy"));
    }

    [Test]
    public async Task OpenApiDocumentAndSwaggerUiAreServed()
    {
        using var client = Testing.CreateClient();
        using var document = await client.GetAsync("/openapi/v1.json");
        using var ui = await client.GetAsync("/swagger/index.html");

        Assert.That(document.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var json = JsonDocument.Parse(await document.Content.ReadAsStringAsync());
        Assert.That(json.RootElement.GetProperty("openapi").GetString(), Does.StartWith("3."));
        var paths = json.RootElement.GetProperty("paths");
        Assert.That(Responses(paths, "/api/content-planning/strategies/{id}", "get"), Is.SupersetOf(new[] { "200", "404", "503" }));
        Assert.That(Responses(paths, "/api/content-planning/strategies", "post"), Is.SupersetOf(new[] { "201", "400" }));
        Assert.That(Responses(paths, "/api/content-planning/calendar-generation/cache/stats", "get"), Does.Contain("401"));
        Assert.That(ui.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task AnHttpRequestIsExportedAsAServerSpanWithItsNpgsqlChildSpans()
    {
        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();
        using var client = Testing.CreateClient();

        using var response = await client.GetAsync("/health/ready");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        // The server span ends after the response is written: give the exporter a moment.
        SpanRecord? server = null;
        for (var i = 0; i < 50 && server is null; i++)
        {
            server = spans.Snapshot().LastOrDefault(s => s.Source == "Microsoft.AspNetCore" && s.Attributes.GetValueOrDefault("url.path") == "/health/ready");
            if (server is null)
            {
                await Task.Delay(20);
            }
        }

        Assert.That(server, Is.Not.Null, "an HTTP server span for the request");
        Assert.That(server!.Name, Is.EqualTo("GET /health/ready"));
        Assert.That(server.Kind, Is.EqualTo("server"));
        Assert.That(server.Attributes["http.response.status_code"], Is.EqualTo("200"));
        var database = spans.Snapshot().Where(s => s.Source == "Npgsql" && s.TraceId == server!.TraceId).ToList();
        Assert.That(database, Is.Not.Empty, "Npgsql spans in the request's trace");
        Assert.That(database.All(s => s.StartTime >= server!.StartTime), Is.True);
    }

    [Test]
    public async Task ReadyIsDegradedButStillOkWhileRedisIsDown()
    {
        using var proxy = new TcpProxy(TestEnvironment.RedisConnectionString);
        await using var node = new ApiFactory("node-redis-cut", new Dictionary<string, string?> { ["ConnectionStrings:Redis"] = proxy.Endpoint + ",connectTimeout=1000" });
        using var client = node.CreateClient();
        Assert.That(await WaitForRedisStatusAsync(client, "healthy"), Is.EqualTo("healthy"));

        proxy.Cut();

        Assert.That(await WaitForRedisStatusAsync(client, "degraded"), Is.EqualTo("degraded"));
        using var live = await client.GetAsync("/health/live");
        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    [Test]
    public async Task EveryMediatorRequestRunsInASpanNamedAfterItsRequestType()
    {
        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();
        using var client = Testing.CreateClient();

        using var response = await client.PostAsJsonAsync("/api/content-planning/strategies", new { user_id = "span-user", name = "Traced" }, Testing.Json);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));

        SpanRecord? handler = null;
        for (var i = 0; i < 50 && handler is null; i++)
        {
            handler = spans.Snapshot().LastOrDefault(s => s.Source == ServiceTelemetry.Name && s.Name == "CreateStrategy.Command");
            if (handler is null)
            {
                await Task.Delay(20);
            }
        }

        Assert.That(handler, Is.Not.Null, "a span for the MediatR request");
        var trace = spans.Snapshot().Where(s => s.TraceId == handler!.TraceId).ToList();
        Assert.That(trace.Any(s => s.Source == "Microsoft.AspNetCore" && s.Name == "POST /api/content-planning/strategies"), Is.True, "under the HTTP server span");
        Assert.That(trace.Any(s => s.Source == "Npgsql" && s.ParentSpanId == handler!.SpanId), Is.True, "the INSERT runs inside the handler span");
    }

    [Test]
    public async Task ACachedReadsTraceShowsItsRedisCommandsUnderTheCacheSpans()
    {
        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();
        using var client = Testing.CreateClient();
        var user = "redis-span-" + Guid.NewGuid().ToString("N")[..8];
        using (var created = await client.PostAsJsonAsync("/api/content-planning/strategies", new { user_id = user, name = "Traced" }, Testing.Json))
        {
            Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        // A cold read: L2 misses (HMGET), the factory's value goes to L2 (HMSET, EXPIRE) and the backplane (PUBLISH).
        var path = $"/api/content-planning/users/{user}/active-strategy";
        using var read = await client.GetAsync(path);
        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using (var answer = JsonDocument.Parse(await read.Content.ReadAsStringAsync()))
        {
            Assert.That(answer.RootElement.GetProperty("cache_info").GetProperty("source").GetString(), Is.EqualTo("database"));
        }

        // The Redis instrumentation turns a request's commands into spans when it drains its profiling sessions (every
        // FlushInterval, 10 s by default), so the spans join the trace some seconds after the request ended.
        const string RedisSource = "OpenTelemetry.Instrumentation.StackExchangeRedis";
        List<SpanRecord> trace = [];
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var snapshot = spans.Snapshot();
            var server = snapshot.LastOrDefault(s => s.Source == "Microsoft.AspNetCore" && s.Attributes.GetValueOrDefault("url.path") == path);
            trace = server is null ? [] : snapshot.Where(s => s.TraceId == server.TraceId).ToList();
            if (new[] { "HMGET", "HMSET", "PUBLISH" }.All(command => trace.Any(s => s.Source == RedisSource && s.Name == command)))
            {
                break;
            }

            await Task.Delay(100);
        }

        string? ParentSource(string command) =>
            trace.FirstOrDefault(s => s.Source == RedisSource && s.Name == command) is { } redis
                ? trace.FirstOrDefault(s => s.SpanId == redis.ParentSpanId)?.Source
                : null;
        var shown = string.Join("\n", trace.Select(s => $"{s.Source}: {s.Name}"));
        Assert.Multiple(() =>
        {
            Assert.That(ParentSource("HMGET"), Is.EqualTo(ZiggyCreatures.Caching.Fusion.FusionCacheDiagnostics.ActivitySourceNameDistributedLevel), "the L2 read under FusionCache's L2 span:\n" + shown);
            Assert.That(ParentSource("HMSET"), Is.EqualTo(ZiggyCreatures.Caching.Fusion.FusionCacheDiagnostics.ActivitySourceNameDistributedLevel), "the L2 write under FusionCache's L2 span:\n" + shown);
            Assert.That(ParentSource("PUBLISH"), Is.EqualTo(ZiggyCreatures.Caching.Fusion.FusionCacheDiagnostics.ActivitySourceNameBackplane), "the backplane message under FusionCache's backplane span:\n" + shown);
        });
    }

    [Test]
    public async Task EachRequestRecordsItsDurationAndOutcome()
    {
        var seen = new System.Collections.Concurrent.ConcurrentBag<(string? Request, string? Outcome)>();
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == ServiceTelemetry.Name && instrument.Name == "content_planning.request.duration")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, tags, _) =>
        {
            string? request = null, outcome = null;
            foreach (var tag in tags)
            {
                if (tag.Key == "request") request = tag.Value as string;
                if (tag.Key == "outcome") outcome = tag.Value as string;
            }

            seen.Add((request, outcome));
        });
        listener.Start();
        using var client = Testing.CreateClient();

        using var invalid = await client.PostAsJsonAsync("/api/content-planning/strategies", new { user_id = "bad id", name = "x" }, Testing.Json);
        using var valid = await client.GetAsync("/api/content-planning/strategies?user_id=metric-user");

        Assert.That(invalid.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(valid.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(seen, Does.Contain(("CreateStrategy.Command", "invalid")));
        Assert.That(seen, Does.Contain(("ListStrategies.Query", "ok")));
    }

    private static List<string> Responses(JsonElement paths, string path, string method) =>
        paths.GetProperty(path).GetProperty(method).GetProperty("responses").EnumerateObject().Select(p => p.Name).ToList();

    private static async Task<string?> WaitForRedisStatusAsync(HttpClient client, string expected)
    {
        string? status = null;
        for (var i = 0; i < 50 && status != expected; i++)
        {
            status = await RedisStatusAsync(client);
            if (status != expected)
            {
                await Task.Delay(100);
            }
        }

        return status;
    }

    private static async Task<string?> RedisStatusAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health/ready");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString();
    }
}
