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
    public static readonly Histogram<double> RequestDuration = Meter.CreateHistogram<double>(
        "content_planning.request.duration", unit: "s", description: "Duration of feature requests (MediatR handlers, validation included).");
}
