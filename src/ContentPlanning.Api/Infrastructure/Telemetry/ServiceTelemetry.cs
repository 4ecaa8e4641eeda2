using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>The service's own ActivitySource and Meter, both named <c>ContentPlanning</c>.</summary>
public static class ServiceTelemetry
{
    public const string Name = "ContentPlanning";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);

    /// <summary>Duration of every MediatR request, tagged <c>request</c> (e.g. ActivateStrategy.Command) and <c>outcome</c> (ok, invalid, error).</summary>
    /// <summary>
    /// Bucket bounds in seconds for every duration histogram of the service: ASP.NET Core's own bounds for
    /// http.server.request.duration (5 ms to 10 s), extended to 5 minutes for queued and long-running work. Without this
    /// advice the SDK's default bounds (0, 5, 10, 25 ... 10000) are milliseconds and put every observation in le="5".
    /// </summary>
    public static readonly IReadOnlyList<double> SecondsBuckets =
        [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 120, 300];

    /// <summary>Duration of every MediatR request, tagged <c>request</c> (e.g. ActivateStrategy.Command) and <c>outcome</c> (ok, invalid, error).</summary>
    public static readonly Histogram<double> RequestDuration = CreateSecondsHistogram(
        "content_planning.request.duration", "Duration of feature requests (MediatR handlers, validation included).");

    /// <summary>A histogram of durations in seconds with <see cref="SecondsBuckets"/>.</summary>
    public static Histogram<double> CreateSecondsHistogram(string name, string description) =>
        Meter.CreateHistogram(name, unit: "s", description: description, tags: null,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = SecondsBuckets });
}
