using System.Collections.Concurrent;
using System.Diagnostics;
using OpenTelemetry;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>
/// An exporter that keeps the most recent finished spans in memory, so traces can be read without a collector
/// (<c>GET /api/content-planning/diagnostics/traces</c>) and asserted on in tests.
/// </summary>
public sealed class RecentSpans : BaseExporter<Activity>
{
    private readonly ConcurrentQueue<SpanRecord> _spans = new();
    private readonly int _capacity;

    public RecentSpans(int capacity = 2000) => _capacity = capacity;

    public override ExportResult Export(in Batch<Activity> batch)
    {
        foreach (var activity in batch)
        {
            _spans.Enqueue(SpanRecord.From(activity));
            while (_spans.Count > _capacity && _spans.TryDequeue(out _))
            {
            }
        }

        return ExportResult.Success;
    }

    public IReadOnlyList<SpanRecord> Snapshot() => _spans.ToArray();

    public void Clear() => _spans.Clear();
}

public sealed record SpanRecord(
    string TraceId,
    string SpanId,
    string? ParentSpanId,
    string Source,
    string Name,
    string Kind,
    DateTimeOffset StartTime,
    double DurationMs,
    string Status,
    IReadOnlyDictionary<string, string?> Attributes)
{
    public static SpanRecord From(Activity activity) => new(
        activity.TraceId.ToHexString(),
        activity.SpanId.ToHexString(),
        activity.ParentSpanId == default ? null : activity.ParentSpanId.ToHexString(),
        activity.Source.Name,
        activity.DisplayName,
        activity.Kind.ToString().ToLowerInvariant(),
        new DateTimeOffset(activity.StartTimeUtc, TimeSpan.Zero),
        activity.Duration.TotalMilliseconds,
        activity.Status.ToString().ToLowerInvariant(),
        ReadAttributes(activity));

    // Tags may repeat a key (SetTag after AddTag): the last value wins, as exporters do.
    private static Dictionary<string, string?> ReadAttributes(Activity activity)
    {
        var attributes = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (key, value) in activity.TagObjects)
        {
            attributes[key] = value?.ToString();
        }

        return attributes;
    }
}
