using System.Diagnostics;
using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.GetActiveStrategy;

/// <summary>The numbers issue 4 asks for, printed rather than asserted: run by hand (--filter "FullyQualifiedName~Measure").</summary>
[Explicit("Measurement, not a check: prints latencies and asserts no bound")]
public sealed class MeasureActiveStrategyLatency : DatabaseTest
{
    private const string ServerSpan = "GET /api/content-planning/users/{user_id}/active-strategy";

    [Test]
    public async Task MeasureCrossNodePropagation()
    {
        const int iterations = 100;
        await using var nodeB = new ApiFactory("node-b");
        using var clientA = Testing.CreateClient();
        using var clientB = nodeB.CreateClient();
        long[] ids = [await CreateIdAsync(clientA, "user-1", "Even"), await CreateIdAsync(clientA, "user-1", "Odd")];
        await ActivateAsync(clientA, ids[1]);

        var fromResponse = new List<double>();
        var fromRequest = new List<double>();
        var missed = 0;
        for (var i = 0; i < iterations + 5; i++)
        {
            var target = ids[i % 2];
            var warm = await CachingTests.WarmAsync(clientB, "user-1");
            Assert.That(Source(warm), Is.EqualTo("memory"));

            var sent = Stopwatch.GetTimestamp();
            await ActivateAsync(clientA, target);
            var answered = Stopwatch.GetTimestamp();
            var done = false;
            while (!done && Stopwatch.GetElapsedTime(answered).TotalSeconds < 2)
            {
                done = StrategyId(await GetActiveAsync(clientB, "user-1")) == target;
            }

            var seen = Stopwatch.GetTimestamp();
            if (!done)
            {
                missed++;
            }
            else if (i >= 5)
            {
                fromResponse.Add(Stopwatch.GetElapsedTime(answered, seen).TotalMilliseconds);
                fromRequest.Add(Stopwatch.GetElapsedTime(sent, seen).TotalMilliseconds);
            }
        }

        await TestContext.Out.WriteLineAsync($"cross-node propagation over {fromResponse.Count} activations ({missed} not seen within 2 s):");
        await TestContext.Out.WriteLineAsync($"  activate response on A -> B answers new strategy: {Latency.Describe(fromResponse, 0.9, 0.99)}");
        await TestContext.Out.WriteLineAsync($"  activate request sent to A -> B answers new strategy: {Latency.Describe(fromRequest, 0.9, 0.99)}");
    }

    [Test]
    public async Task MeasureCachedVersusDatabaseRead()
    {
        const int requests = 200;
        using var client = Testing.CreateClient();
        await CreateIdAsync(client, "user-1", "Measured", EveryField());
        var spans = Testing.Factory.Services.GetRequiredService<RecentSpans>();

        for (var i = 0; i < 50; i++)
        {
            await GetActiveAsync(client, "user-1", forceRefresh: i % 2 == 0);
        }

        var results = new List<string>();
        foreach (var (label, expectedSource, before) in new (string, string, Action?)[]
                 {
                     ("memory (L1 hit)", "memory", null),
                     ("redis (L1 cleared before each read)", "redis", Testing.ClearMemory),
                     ("database (force_refresh=true)", "database", null),
                 })
        {
            var clientSide = new List<double>();
            spans.Clear();
            for (var i = 0; i < requests; i++)
            {
                before?.Invoke();
                var start = Stopwatch.GetTimestamp();
                var answer = await GetActiveAsync(client, "user-1", forceRefresh: expectedSource == "database");
                clientSide.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
                Assert.That(Source(answer), Is.EqualTo(expectedSource));
            }

            var serverSide = await Latency.ServerSpansAsync(spans, ServerSpan, requests);
            results.Add($"  {label}: server span {Latency.Describe(serverSide, 0.9, 0.99)}; in-process client {Latency.Describe(clientSide, 0.9, 0.99)}");
        }

        await TestContext.Out.WriteLineAsync($"GET active-strategy, {requests} requests each, sequential:");
        foreach (var line in results)
        {
            await TestContext.Out.WriteLineAsync(line);
        }
    }
}
