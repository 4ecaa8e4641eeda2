using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>A real Prometheus (Debian's, installed by scripts/servers.sh) scrapes a Kestrel instance of the API.</summary>
public sealed class PrometheusRoundTripTests
{
    private const string Route = "/api/content-planning/strategies";

    [Test]
    public async Task PrometheusReadsTheCacheCountersAndTheRequestDurationHistogram()
    {
        await using var node = new ApiFactory("node-prometheus");
        // Port 0: Kestrel takes a free port, and Prometheus is told which one.
        node.UseKestrel(0);
        node.StartServer();
        var appPort = new Uri(node.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First()).Port;
        var prometheusPort = TestEnvironment.FreePort();
        using var client = node.CreateClient();
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
            var requests = await QueryUntilPresentAsync(api, $"sum(http_server_request_duration_seconds_count{{http_route=\"{Route}\"}})");
            var hits = await QueryUntilPresentAsync(api, "sum(fusioncache_cache_hit_total)");

            Assert.That(requests, Is.GreaterThanOrEqualTo(3), "the request-duration histogram counted the requests");
            Assert.That(hits, Is.GreaterThanOrEqualTo(1), "the L1 hit counter counted the second read");
        }
        finally
        {
            prometheus.Kill(entireProcessTree: true);
            await prometheus.WaitForExitAsync();
        }
    }

    /// <summary>Prometheus needs a start and a first scrape: poll its query API (bounded) until the series has a value.</summary>
    private static async Task<double> QueryUntilPresentAsync(HttpClient api, string query)
    {
        for (var attempt = 0; attempt < 120; attempt++)
        {
            try
            {
                using var json = JsonDocument.Parse(await api.GetStringAsync("/api/v1/query?query=" + Uri.EscapeDataString(query)));
                var result = json.RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() > 0)
                {
                    return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Prometheus never answered a value for {query}");
        return 0;
    }
}
