using System.Diagnostics;
using OpenTelemetry;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>
/// An exporter that keeps the most recent finished spans in memory, so traces can be read without a collector
/// (<c>GET /api/content-planning/diagnostics/traces</c>) and asserted on in tests. It is fed by its own
/// <see cref="BatchActivityExportProcessor"/> (<see cref="Processor"/>), so a request never waits for it: ending a span
/// only enqueues it, and the batch thread drops it into a fixed ring of <c>capacity</c> slots. A span becomes a
/// <see cref="SpanRecord"/> only when somebody reads the view, so an unread view costs one enqueue per sampled span.
/// </summary>
public sealed class RecentSpans : BaseExporter<Activity>
{
    private readonly Activity?[] _ring;
    private readonly Lock _lock = new();
    private long _written;

    public RecentSpans(int capacity = 2000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new Activity?[capacity];
        // Queue as large as the view, batches of up to 512 every second (and whenever the view is read: see Snapshot).
        Processor = new BatchActivityExportProcessor(this, maxQueueSize: Math.Max(capacity, 2048), scheduledDelayMilliseconds: 1000,
            exporterTimeoutMilliseconds: 30000, maxExportBatchSize: 512);
    }

    /// <summary>The processor to add to the tracer provider (it owns the batch thread).</summary>
    public BatchActivityExportProcessor Processor { get; }

    public override ExportResult Export(in Batch<Activity> batch)
    {
        lock (_lock)
        {
            foreach (var activity in batch)
            {
                _ring[_written++ % _ring.Length] = activity;
            }
        }

        return ExportResult.Success;
    }

    /// <summary>The spans kept, oldest first, including every span that ended before the call (the queue is flushed first).</summary>
    public IReadOnlyList<SpanRecord> Snapshot()
    {
        Processor.ForceFlush(5000);
        Activity[] kept;
        lock (_lock)
        {
            var count = (int)Math.Min(_written, _ring.Length);
            kept = new Activity[count];
            for (var i = 0; i < count; i++)
            {
                kept[i] = _ring[(_written - count + i) % _ring.Length]!;
            }
        }

        return Array.ConvertAll(kept, SpanRecord.From);
    }

    public void Clear()
    {
        Processor.ForceFlush(5000);
        lock (_lock)
        {
            Array.Clear(_ring);
            _written = 0;
        }
    }
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
