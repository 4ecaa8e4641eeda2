using Carter;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Api.Infrastructure.Telemetry;

namespace ContentPlanning.Api.Features.Diagnostics;

/// <summary>
/// The spans this node finished most recently, grouped by trace, newest first: a way to read traces without a
/// collector (with one, set OTEL_EXPORTER_OTLP_ENDPOINT). Admin key required.
/// </summary>
public static class GetRecentTraces
{
    public sealed record Trace(string TraceId, string RootName, DateTimeOffset StartTime, double DurationMs, IReadOnlyList<SpanRecord> Spans);

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/diagnostics/traces", (int? limit, string? path, RecentSpans spans) =>
                {
                    var traces = spans.Snapshot()
                        .GroupBy(s => s.TraceId)
                        .Select(g =>
                        {
                            var ordered = g.OrderBy(s => s.StartTime).ToList();
                            var root = ordered.FirstOrDefault(s => s.ParentSpanId is null || ordered.All(p => p.SpanId != s.ParentSpanId)) ?? ordered[0];
                            return new Trace(g.Key, root.Name, root.StartTime, root.DurationMs, ordered);
                        })
                        .Where(t => path is null || t.Spans.Any(s => s.Attributes.GetValueOrDefault("url.path")?.StartsWith(path, StringComparison.Ordinal) == true))
                        .OrderByDescending(t => t.StartTime)
                        .Take(Math.Clamp(limit ?? 20, 1, 200))
                        .ToList();
                    return TypedResults.Ok(traces);
                })
                .WithTags("Diagnostics")
                .WithSummary("Recently finished traces of this node (spans grouped by trace)")
                .RequireAdmin();
    }
}
