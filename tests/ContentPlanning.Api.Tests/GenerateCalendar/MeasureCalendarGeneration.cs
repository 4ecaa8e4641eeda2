using System.Net;
using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.GenerateCalendar;

/// <summary>The numbers issue 8 asks for, printed rather than asserted: run by hand (--filter "FullyQualifiedName~Measure").</summary>
[Explicit("Measurement, not a check: prints latencies and asserts no bound")]
public sealed class MeasureCalendarGeneration : DatabaseTest
{
    private const string ServerSpan = "POST /api/content-planning/calendar-generation/generate-calendar";

    [Test]
    public async Task MeasureAQuarterlyCalendarWithFivePlatformsAndFivePiecesADay()
    {
        const int runs = 60;
        await Testing.ScalarAsync<long>("""
            INSERT INTO content_strategies (user_id, name, industry, content_pillars, business_objectives)
            VALUES ('measured', 'Plan', 'retail', '{"Education": 3, "Stories": 1, "Product": 2}', '["brand awareness"]') RETURNING id
            """);
        using var client = Testing.CreateClient();
        const string Request = """
            {"user_id": "measured", "calendar_type": "quarterly", "start_date": "2026-03-02", "timezone": "Europe/Berlin",
             "platforms": ["blog", "youtube", "linkedin", "instagram", "tiktok"], "pieces_per_day": 5}
            """;
        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();
        using (var warm = await client.PostJsonAsync(ApiRoot + "/calendar-generation/generate-calendar", Request))
        {
            Assert.That(warm.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        var durations = new List<double>();
        var roundTrips = new List<int>();
        var events = 0;
        for (var i = 0; i < runs; i++)
        {
            spans.Clear();
            using var response = await client.PostJsonAsync(ApiRoot + "/calendar-generation/generate-calendar", Request);
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created));
            events = (await JsonAsync(response)).GetProperty("event_count").GetInt32();
            durations.AddRange(await Latency.ServerSpansAsync(spans, ServerSpan, 1));
            // Npgsql's spans are named "postgresql" (one per command); CONNECT spans are pool opens, not round trips of the generation.
            roundTrips.Add(spans.Snapshot().Count(s => s.Name == "postgresql"));
        }

        await TestContext.Out.WriteLineAsync($"POST generate-calendar, quarterly, 5 platforms, 5 pieces/day, {runs} sequential runs (comprehensive data cached):");
        await TestContext.Out.WriteLineAsync($"  server span: {Latency.Describe(durations, 0.95, 0.99)}");
        await TestContext.Out.WriteLineAsync($"  events stored per generation: {events}; Npgsql command spans per generation: {string.Join(",", roundTrips.Distinct())}");
    }
}
