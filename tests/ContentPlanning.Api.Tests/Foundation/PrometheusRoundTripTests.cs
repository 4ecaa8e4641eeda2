using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using ContentPlanning.Api.Tests.CalendarJobs;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>
/// A real Prometheus (Debian's, installed by scripts/servers.sh) scrapes a Kestrel instance of the API: the counters and
/// the seconds histograms arrive, each observation sits in the bucket its value belongs to, and every query of the
/// Grafana dashboard (deploy/grafana/dashboards) runs and answers with numbers of the right scale.
/// </summary>
public sealed partial class PrometheusRoundTripTests
{
    private const string Route = "/api/content-planning/strategies";

    private static readonly string[] SecondsHistograms =
    [
        "content_planning_calendar_generation_duration_seconds", "content_planning_request_duration_seconds",
        "content_planning_calendar_job_queue_wait_seconds", "content_planning_calendar_job_run_time_seconds",
    ];

    [Test]
    public async Task PrometheusReadsTheCountersTheSecondsHistogramsAndTheDashboardQueries()
    {
        await Testing.ResetStateAsync();
        await using var node = new ApiFactory("node-prometheus", new Dictionary<string, string?>
        {
            ["CalendarJobs:WorkersPerNode"] = "1",
            ["CalendarJobs:QueuePollInterval"] = "00:00:00.500",
        });
        // Port 0: Kestrel takes a free port, and Prometheus is told which one.
        node.UseKestrel(0);
        node.StartServer();
        var appPort = new Uri(node.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First()).Port;
        var prometheusPort = TestEnvironment.FreePort();
        using var client = node.CreateClient();

        var data = TestEnvironment.PrometheusData;
        if (Directory.Exists(data))
        {
            Directory.Delete(data, recursive: true);
        }

        Directory.CreateDirectory(data);
        var config = Path.Combine(data, "prometheus.yml");
        await File.WriteAllTextAsync(config, $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: content-planning-test
                static_configs:
                  - targets: ["127.0.0.1:{appPort}"]
            """);
        using var prometheus = Process.Start(new ProcessStartInfo("prometheus",
        [
            "--config.file=" + config, "--storage.tsdb.path=" + Path.Combine(data, "tsdb"),
            $"--web.listen-address=127.0.0.1:{prometheusPort}",
        ])
        { RedirectStandardError = true, RedirectStandardOutput = true })!;
        prometheus.ErrorDataReceived += (_, _) => { };
        prometheus.BeginErrorReadLine();
        prometheus.BeginOutputReadLine();
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{prometheusPort}") };
            // The activity comes after a first scrape, so the dashboard's rate() queries see the counters move.
            await QueryUntilAsync(api, "up", v => v == 1);

            for (var i = 0; i < 3; i++)
            {
                using var response = await client.GetAsync(Route + "?user_id=prometheus-user");
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            // A user without strategies is cached as not found: the second read is an L1 hit.
            for (var i = 0; i < 2; i++)
            {
                using var response = await client.GetAsync("/api/content-planning/users/prometheus-user/active-strategy");
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
            }

            // One synchronous generation (weekly) and one job (monthly) that a worker runs.
            await SeedStrategyAsync("prometheus-user");
            await GenerateWeeklyAsync(client);

            var job = await CalendarJobTests.StartAsync(client, "prometheus-user");
            await CalendarJobTests.WaitForAsync(client, job.GetProperty("session_id").GetString()!,
                j => j.GetProperty("status").GetString() == "completed");

            var requests = await QueryUntilAsync(api, $"sum(http_server_request_duration_seconds_count{{http_route=\"{Route}\"}})", v => v >= 3);
            var hits = await QueryUntilAsync(api, "sum(fusioncache_cache_hit_total)", v => v >= 1);
            Assert.That(requests, Is.GreaterThanOrEqualTo(3), "the request-duration histogram counted the requests");
            Assert.That(hits, Is.GreaterThanOrEqualTo(1), "the L1 hit counter counted the second read");

            foreach (var histogram in SecondsHistograms)
            {
                await QueryUntilAsync(api, $"sum({histogram}_count)", v => v >= 1);
                await AssertObservationsInTheirBucketsAsync(api, histogram);
            }

            // rate() sees only increases after a series' first sample: a second round of the same activity, now that
            // Prometheus holds every series, moves what the dashboard's queries read.
            const string Weekly = "content_planning_calendar_generation_duration_seconds_sum{calendar_type=\"weekly\"}";
            var before = (await QueryVectorAsync(api, Weekly)).Single().Value;
            await GenerateWeeklyAsync(client);
            for (var i = 0; i < 3; i++)
            {
                using var response = await client.GetAsync(Route + "?user_id=prometheus-user");
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
            }

            var after = await QueryUntilAsync(api, Weekly, v => v > before);
            await AssertDashboardQueriesAnswerAsync(api, before, after - before);
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
        }
    }

    private static async Task GenerateWeeklyAsync(HttpClient client)
    {
        using var generated = await client.PostJsonAsync("/api/content-planning/calendar-generation/generate-calendar",
            """{"user_id": "prometheus-user", "calendar_type": "weekly"}""");
        Assert.That(generated.StatusCode, Is.EqualTo(HttpStatusCode.Created), await generated.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Every series of <paramref name="histogram"/> with exactly one observation: its sum is the observed value, so the
    /// first bucket counting it must be the smallest bound at or above that value, and the bounds must be seconds (a
    /// 5 ms bucket exists; with the SDK's millisecond defaults the first bounds are 0, 5, 10 and every value lands in le="5").
    /// </summary>
    private static async Task AssertObservationsInTheirBucketsAsync(HttpClient api, string histogram)
    {
        var counts = await QueryVectorAsync(api, $"{histogram}_count == 1");
        Assert.That(counts, Is.Not.Empty, $"{histogram} has a series with one observation");
        foreach (var (labels, _) in counts)
        {
            var selector = string.Join(",", labels.Where(l => l.Key != "__name__").Select(l => $"{l.Key}=\"{l.Value}\""));
            var sum = (await QueryVectorAsync(api, $"{histogram}_sum{{{selector}}}")).Single().Value;
            var buckets = (await QueryVectorAsync(api, $"{histogram}_bucket{{{selector}}}"))
                .Select(b => (Bound: b.Labels["le"] == "+Inf" ? double.PositiveInfinity : double.Parse(b.Labels["le"], CultureInfo.InvariantCulture), Count: b.Value))
                .OrderBy(b => b.Bound)
                .ToList();
            Assert.That(buckets.Select(b => b.Bound), Does.Contain(0.005).And.Contain(0.1).And.Contain(1.0).And.Contain(10.0),
                $"{histogram}{{{selector}}}: second-scale bounds");
            var first = buckets.First(b => b.Count >= 1);
            var expected = buckets.First(b => b.Bound >= sum);
            Assert.That(first.Bound, Is.EqualTo(expected.Bound),
                $"{histogram}{{{selector}}}: the observation of {sum} s belongs to le=\"{expected.Bound}\"");
        }
    }

    /// <summary>Every expression of the dashboard runs; the latency quantiles answer seconds of the scale observed.</summary>
    private static async Task AssertDashboardQueriesAnswerAsync(HttpClient api, double first, double second)
    {
        var dashboards = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../deploy/grafana/dashboards"));
        var expressions = Directory.GetFiles(dashboards, "*.json")
            .SelectMany(f => Expression().Matches(File.ReadAllText(f)).Select(m => JsonSerializer.Deserialize<string>("\"" + m.Groups[1].Value + "\"")!))
            .ToList();
        Assert.That(expressions, Is.Not.Empty);
        foreach (var expression in expressions)
        {
            // The failsafe counter appears only after a fail-safe activation (the cache tests cover it).
            if (expression.Contains("failsafe", StringComparison.Ordinal))
            {
                continue;
            }

            var values = await QueryVectorUntilAsync(api, expression, v => v.Any(s => double.IsFinite(s.Value)));
            if (expression.Contains("histogram_quantile", StringComparison.Ordinal))
            {
                // Every observation here is well under 10 s: a p95 at or above it means millisecond bounds again.
                Assert.That(values.Where(v => double.IsFinite(v.Value)).Select(v => v.Value), Has.All.LessThan(10), expression);
            }
        }

        // The generation p95 over the last minutes comes from the buckets of the two weekly generations (rate() extrapolates
        // the series' increases unevenly over a window this young, so either bucket may carry it): between the lower
        // bound of the smaller one's bucket and the upper bound of the larger one's. Millisecond bounds read about 4.75.
        var p95 = (await QueryVectorUntilAsync(api,
                "histogram_quantile(0.95, sum by (le, calendar_type) (rate(content_planning_calendar_generation_duration_seconds_bucket{calendar_type=\"weekly\"}[5m])))",
                v => v.Any(s => double.IsFinite(s.Value))))
            .Single().Value;
        var bounds = ContentPlanning.Api.Infrastructure.Telemetry.ServiceTelemetry.SecondsBuckets;
        var upper = bounds.First(b => b >= Math.Max(first, second));
        var lower = bounds.LastOrDefault(b => b < Math.Min(first, second));
        Assert.That(p95, Is.InRange(lower, upper), $"p95 of generations of {first} s and {second} s lies within their buckets");
    }

    private static async Task<double> QueryUntilAsync(HttpClient api, string query, Func<double, bool> done) =>
        (await QueryVectorUntilAsync(api, query, v => v.Count > 0 && done(v[0].Value)))[0].Value;

    /// <summary>Prometheus needs a start and a few scrapes: poll its query API (bounded) until the answer is there.</summary>
    private static async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryVectorUntilAsync(HttpClient api, string query,
        Func<List<(Dictionary<string, string> Labels, double Value)>, bool> done)
    {
        List<(Dictionary<string, string> Labels, double Value)> last = [];
        for (var attempt = 0; attempt < 240; attempt++)
        {
            try
            {
                last = await QueryVectorAsync(api, query);
                if (done(last))
                {
                    return last;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Prometheus never answered as expected for {query}; last: {string.Join(", ", last.Select(v => v.Value))}");
        return last;
    }

    private static async Task<List<(Dictionary<string, string> Labels, double Value)>> QueryVectorAsync(HttpClient api, string query)
    {
        using var response = await api.GetAsync("/api/v1/query?query=" + Uri.EscapeDataString(query));
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            throw new HttpRequestException("Prometheus is starting");
        }

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), $"{query}: {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(r => (
                r.GetProperty("metric").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!),
                double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .ToList();
    }

    [GeneratedRegex("\"expr\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"")]
    private static partial Regex Expression();
}
