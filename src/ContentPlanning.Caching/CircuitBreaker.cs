namespace ContentPlanning.Caching;

/// <summary>Open for a fixed interval after an error; no half-open probing: the first call after the interval is the probe.</summary>
internal sealed class CircuitBreaker(TimeSpan breakDuration, TimeProvider time)
{
    private long _openUntilTicks = long.MinValue;

    public bool IsClosed => time.GetUtcNow().UtcTicks >= Volatile.Read(ref _openUntilTicks);

    public TimeSpan BreakDuration => breakDuration;

    /// <summary>Opens the breaker; true only for the call that opened it, so the caller logs once per opening.</summary>
    public bool TryOpen()
    {
        var now = time.GetUtcNow().UtcTicks;
        while (true)
        {
            var current = Volatile.Read(ref _openUntilTicks);
            if (now < current) return false;
            if (Interlocked.CompareExchange(ref _openUntilTicks, now + breakDuration.Ticks, current) == current) return true;
        }
    }

    public void Close() => Volatile.Write(ref _openUntilTicks, long.MinValue);
}
