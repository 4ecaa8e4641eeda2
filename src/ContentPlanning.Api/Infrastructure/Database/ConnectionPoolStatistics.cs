using System.Diagnostics.Metrics;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>
/// The connection pool as Npgsql reports it through its meter ("Npgsql": <c>db.client.connection.count</c> by state,
/// <c>db.client.connection.max</c>, <c>db.client.connection.npgsql.pending_requests</c>). Npgsql has no public pool API; its
/// observable instruments are read on demand with a <see cref="MeterListener"/>. Figures cover every pool of the process.
/// </summary>
public sealed class ConnectionPoolStatistics : IDisposable
{
    public sealed record Snapshot(long Idle, long Busy, long Max, long PendingRequests);

    private readonly MeterListener _listener = new();
    private readonly Lock _gate = new();
    private long _idle, _busy, _max, _pending;

    public ConnectionPoolStatistics()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name is "db.client.connection.count" or "db.client.connection.max"
                    or "db.client.connection.npgsql.pending_requests")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.Start();
    }

    public Snapshot Read()
    {
        lock (_gate)
        {
            _idle = _busy = _max = _pending = 0;
            _listener.RecordObservableInstruments();
            return new Snapshot(_idle, _busy, _max, _pending);
        }
    }

    private void Record(string instrument, long value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        switch (instrument)
        {
            case "db.client.connection.count":
                var idle = false;
                foreach (var tag in tags)
                {
                    idle |= tag is { Key: "db.client.connection.state", Value: "idle" };
                }

                if (idle)
                {
                    _idle += value;
                }
                else
                {
                    _busy += value;
                }

                break;
            case "db.client.connection.max":
                _max += value;
                break;
            default:
                _pending += value;
                break;
        }
    }

    public void Dispose() => _listener.Dispose();
}
