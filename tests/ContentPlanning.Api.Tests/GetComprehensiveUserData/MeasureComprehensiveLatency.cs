using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

/// <summary>The numbers issue 5 asks for, printed rather than asserted: run by hand (--filter "FullyQualifiedName~Measure").</summary>
[Explicit("Measurement, not a check: prints latencies and asserts no bound")]
public sealed class MeasureComprehensiveLatency : DatabaseTest
{
    private const string ServerSpan = "GET /api/content-planning/calendar-generation/comprehensive-user-data";

    [Test]
    public async Task MeasureEachTier()
    {
        const int requests = 200;
        const int chunkSize = 20;
        using var client = Testing.CreateClient();
        await InsertProfileAsync("measured");
        await InsertStrategyAsync("measured", "Main", active: true);
        for (var i = 0; i < 10; i++)
        {
            await InsertGapAnalysisAsync("measured", $"""["gap {i}", "shared gap"]""", daysAgo: i);
            await InsertRecommendationAsync("measured", $"Recommendation {i}", i % 3 == 0 ? "high" : "medium");
            await InsertAnalyticsAsync("measured", i % 2 == 0 ? "linkedin" : "youtube", $$"""{"views": {{100 + i}}, "likes": {{i}}}""");
        }

        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();
        for (var i = 0; i < 50; i++)
        {
            await GetAsync(client, "measured", forceRefresh: i % 2 == 0);
        }

        var lines = new List<string>();
        foreach (var (label, source, forceRefresh, before) in new (string, string, bool, Func<Task>?)[]
                 {
                     ("L1 hit (memory)", "memory", false, null),
                     ("L2 hit (redis; L1 cleared before each)", "redis", false, () => { Testing.ClearMemory(); return Task.CompletedTask; }),
                     ("snapshot hit (L1+L2 cleared before each)", "database_snapshot", false, async () => await Testing.Cache.ClearAsync(allowFailSafe: false)),
                     ("full assembly (force_refresh=true)", "computed", true, null),
                 })
        {
            // RecentSpans keeps the last 2000 spans and a request makes about ten: collect in chunks.
            var durations = new List<double>();
            for (var chunk = 0; chunk < requests / chunkSize; chunk++)
            {
                spans.Clear();
                for (var i = 0; i < chunkSize; i++)
                {
                    if (before is not null)
                    {
                        await before();
                    }

                    Assert.That(Source(await GetAsync(client, "measured", forceRefresh: forceRefresh)), Is.EqualTo(source));
                }

                durations.AddRange(await Latency.ServerSpansAsync(spans, ServerSpan, chunkSize));
            }

            lines.Add($"  {label}: {Latency.Describe(durations, 0.95, 0.99)}");
        }

        await TestContext.Out.WriteLineAsync($"GET comprehensive-user-data, {requests} sequential requests per tier, server span duration:");
        foreach (var line in lines)
        {
            await TestContext.Out.WriteLineAsync(line);
        }
    }
}
