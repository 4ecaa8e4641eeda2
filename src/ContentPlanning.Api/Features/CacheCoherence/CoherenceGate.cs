namespace ContentPlanning.Api.Features.CacheCoherence;

/// <summary>
/// Whether this node may call a cached per-user answer fresh: only while its change listener hears every notification,
/// and not across a gap (from the moment the listener lost its connection until it listens again and has expired what it
/// may have missed); and only while it hears the backplane (<paramref name="backplaneHeard"/>: its Redis connection is up),
/// because while Redis is down another node's API write reaches this node through the change notification alone, a few
/// milliseconds after that node acknowledged it (issue 21). A cached read takes a token before it reads and asks
/// <see cref="Vouches"/> after: an answer read while the node could not hear, or across a reconnect, is reported stale.
/// </summary>
public sealed class CoherenceGate(Func<bool>? backplaneHeard = null)
{
    // Even: vouching; odd: not. Each change of state moves it on, so a token from before a gap never vouches again.
    private long _epoch = 1;

    /// <summary>Taken before a cached read.</summary>
    public long Enter() => Volatile.Read(ref _epoch);

    /// <summary>True when answers read from a cache since <paramref name="token"/> was taken may be reported fresh.</summary>
    public bool Vouches(long token) => (token & 1) == 0 && Volatile.Read(ref _epoch) == token;

    /// <summary>An answer's <c>is_stale</c>: stale already, or read from a cache tier when the gate did not vouch throughout.</summary>
    public bool IsStale(bool isCached, bool isStale, long token) =>
        isStale || (isCached && (!Vouches(token) || (backplaneHeard is { } heard && !heard())));

    /// <summary>True while the node hears every change notification.</summary>
    public bool IsVouching => (Volatile.Read(ref _epoch) & 1) == 0;

    internal void Suspend()
    {
        if (IsVouching)
        {
            Interlocked.Increment(ref _epoch);
        }
    }

    internal void Resume()
    {
        if (!IsVouching)
        {
            Interlocked.Increment(ref _epoch);
        }
    }
}
