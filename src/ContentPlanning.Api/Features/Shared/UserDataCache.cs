using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// The cache tags of per-user answers and their invalidation. Every write that can change what a user is answered calls
/// <see cref="InvalidateAsync"/> after its transaction commits: FusionCache's RemoveByTag removes the active strategy,
/// the comprehensive data and the strategy summaries from L1 and L2 on every node (through the backplane).
/// </summary>
public sealed class UserDataCache(IFusionCache cache)
{
    // This node's L1 only: for evictions every node makes itself (the change listener's). Size: the L1 is size-limited,
    // and the tag markers these write are L1 entries too.
    private static readonly FusionCacheEntryOptions LocalOnly = new() { SkipDistributedCacheWrite = true, SkipBackplaneNotifications = true, Size = 1 };

    public static string UserTag(string userId) => "user:" + userId;

    public static string[] UserTags(string userId) => [UserTag(userId)];

    /// <summary>
    /// Tags answers built from a user's calendars and calendar events (the strategy summary). Those rows are not part of the
    /// comprehensive data, so their writes evict this tag only and leave the user's comprehensive data cached.
    /// </summary>
    public static string CalendarTag(string userId) => "user-calendar:" + userId;

    public ValueTask InvalidateCalendarAsync(string userId, CancellationToken cancellationToken = default) =>
        cache.RemoveByTagAsync(CalendarTag(userId), token: cancellationToken);

    public ValueTask InvalidateAsync(string userId, CancellationToken cancellationToken = default) =>
        cache.RemoveByTagAsync(UserTag(userId), token: cancellationToken);

    /// <summary>Evicts the user's answers from this node's L1 only (no L2 write, no backplane message).</summary>
    public ValueTask InvalidateOnThisNodeAsync(string userId, CancellationToken cancellationToken = default) =>
        cache.RemoveByTagAsync(UserTag(userId), LocalOnly, cancellationToken);

    /// <summary>
    /// Expires every answer in this node's L1 (FusionCache's Clear keeping fail-safe values, local only): after this node
    /// may have missed invalidations. The next read of each key re-validates against L2 or the database.
    /// </summary>
    public ValueTask ExpireAllOnThisNodeAsync(CancellationToken cancellationToken = default) =>
        cache.ClearAsync(allowFailSafe: true, LocalOnly, cancellationToken);
}
