using System.Globalization;
using ContentPlanning.Api.Infrastructure.Telemetry;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>What the [Explicit] measurement tests share: server-span durations and a percentile summary.</summary>
internal static class Latency
{
    /// <summary>Durations of the finished server spans named <paramref name="spanName"/>, waiting briefly for <paramref name="expected"/> of them.</summary>
    public static async Task<List<double>> ServerSpansAsync(RecentSpans spans, string spanName, int expected)
    {
        // The server span ends just after the response is written.
        List<double> durations = [];
        for (var i = 0; i < 100; i++)
        {
            durations = spans.Snapshot().Where(s => s.Name == spanName && s.Kind == "server").Select(s => s.DurationMs).ToList();
            if (durations.Count >= expected)
            {
                break;
            }

            await Task.Delay(10);
        }

        return durations;
    }

    /// <summary>"n=.. median .. ms, pNN .. ms, .., max .. ms" for the given percentiles (besides the median).</summary>
    public static string Describe(List<double> values, params double[] percentiles)
    {
        if (values.Count == 0)
        {
            return "no samples";
        }

        var sorted = values.Order().ToArray();
        double At(double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
        var parts = percentiles.Select(p => string.Create(CultureInfo.InvariantCulture, $"p{p * 100:0} {At(p):F3} ms"));
        return string.Create(CultureInfo.InvariantCulture, $"n={sorted.Length} median {At(0.5):F3} ms, {string.Join(", ", parts)}, max {sorted[^1]:F3} ms");
    }
}
