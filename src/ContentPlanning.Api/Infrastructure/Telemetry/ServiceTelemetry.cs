using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>The service's own ActivitySource and Meter, both named <c>ContentPlanning</c>.</summary>
public static class ServiceTelemetry
{
    public const string Name = "ContentPlanning";

    public static readonly ActivitySource ActivitySource = new(Name);

    public static readonly Meter Meter = new(Name);
}
