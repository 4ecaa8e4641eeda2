using System.Net;
using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Telemetry;
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
}
