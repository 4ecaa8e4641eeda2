using Microsoft.Extensions.Internal;

namespace ContentPlanning.Caching;

/// <summary>
/// The system UTC clock at millisecond-tick resolution for the L1 hit path: Environment.TickCount64 costs a third
/// of DateTime.UtcNow. Re-anchored to the wall clock every second, so it never drifts; it lags by at most one
/// scheduler tick (a few ms), which only lets an entry be served a few ms past its Duration. Explicit invalidations
/// do not depend on it: they set the entry's expiry to the minimum.
/// </summary>
internal static class CoarseClock
{
    private static long _offset = DateTime.UtcNow.Ticks - (Environment.TickCount64 * TimeSpan.TicksPerMillisecond);
    private static long _anchoredAt = Environment.TickCount64;

    public static long UtcNowTicks
    {
        get
        {
            var tick = Environment.TickCount64;
            if (tick - Volatile.Read(ref _anchoredAt) > 1000) Anchor(tick);
            return (tick * TimeSpan.TicksPerMillisecond) + Volatile.Read(ref _offset);
        }
    }

    private static void Anchor(long tick)
    {
        Volatile.Write(ref _offset, DateTime.UtcNow.Ticks - (Environment.TickCount64 * TimeSpan.TicksPerMillisecond));
        Volatile.Write(ref _anchoredAt, tick);
    }
}

/// <summary>MemoryCache reads its clock on every lookup; with this one that read is as cheap as ours.</summary>
internal sealed class CoarseSystemClock : ISystemClock
{
    public DateTimeOffset UtcNow => new(CoarseClock.UtcNowTicks, TimeSpan.Zero);
}
