using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>What a write changed, so only the answers built from it are evicted (README "Which write evicts which answer").</summary>
public enum UserChange
{
    /// <summary>A profile, gap analysis, recommendation or analytics row: the comprehensive data and the summaries change, the active strategy does not.</summary>
    Data,

    /// <summary>A strategy or its activation: every per-user answer changes.</summary>
    Strategy,
}

/// <summary>
/// The cache tags of per-user answers and their invalidation. Every write that can change what a user is answered calls
/// <see cref="InvalidateAsync"/> after its transaction commits, naming what it changed: FusionCache's RemoveByTag removes
/// the answers built from it from L1 and L2 on every node (through the backplane). The comprehensive data and the
/// strategy summaries carry <see cref="UserTag"/>, the active strategy <see cref="StrategyTag"/>: a profile write leaves
/// the active strategy cached.
/// </summary>
public sealed class UserDataCache(IFusionCache cache)
{
    // This node's L1 only: for evictions every node makes itself (the change listener's). Size: the L1 is size-limited,
    // and the tag markers these write are L1 entries too.
    private static readonly FusionCacheEntryOptions LocalOnly = new() { SkipDistributedCacheWrite = true, SkipBackplaneNotifications = true, Size = 1 };

    /// <summary>Tags answers built from every source table of the user (the comprehensive data, the strategy summaries).</summary>
    public static string UserTag(string userId) => "user:" + userId;

    public static string[] UserTags(string userId) => [UserTag(userId)];

    /// <summary>Tags answers built from the user's strategies and their activation only (the active strategy).</summary>
    public static string StrategyTag(string userId) => "user-strategy:" + userId;

    public static string[] StrategyTags(string userId) => [StrategyTag(userId)];

    /// <summary>
    /// Tags answers built from a user's calendars and calendar events (the strategy summary). Those rows are not part of the
    /// comprehensive data, so their writes evict this tag only and leave the user's comprehensive data cached.
    /// </summary>
    public static string CalendarTag(string userId) => "user-calendar:" + userId;

    /// <summary>The tags a change of <paramref name="change"/> evicts.</summary>
    public static string[] TagsOf(string userId, UserChange change) =>
        change == UserChange.Strategy ? [UserTag(userId), StrategyTag(userId)] : [UserTag(userId)];

    public ValueTask InvalidateCalendarAsync(string userId, CancellationToken cancellationToken = default) =>
        cache.RemoveByTagAsync(CalendarTag(userId), token: cancellationToken);

    // The L2 marker written and the backplane message sent before the call returns: a write answers only once its
    // eviction is in Redis and on its way to every node, and the change listener's refresh that follows an eviction
    // reaches every node after it, never before it. Size: the L1 is size-limited and tag markers are L1 entries too.
    private static readonly FusionCacheEntryOptions Awaited = new()
    {
        AllowBackgroundDistributedCacheOperations = false,
        AllowBackgroundBackplaneOperations = false,
        Size = 1,
    };

    /// <summary>
    /// Evicts, on every node, the user's answers that <paramref name="change"/> can have changed; returns once L2 holds
    /// the eviction and the backplane message is sent (bounded by <c>Cache__DistributedOperationTimeout</c>), unless
    /// <paramref name="inBackground"/> (a bulk of evictions that nothing waits for one by one).
    /// </summary>
    public ValueTask InvalidateAsync(string userId, UserChange change, CancellationToken cancellationToken) =>
        InvalidateAsync(userId, change, inBackground: false, cancellationToken);

    /// <inheritdoc cref="InvalidateAsync(string, UserChange, CancellationToken)"/>
    public ValueTask InvalidateAsync(string userId, UserChange change, bool inBackground, CancellationToken cancellationToken) =>
        cache.RemoveByTagAsync(TagsOf(userId, change), inBackground ? null : Awaited, cancellationToken);

    /// <summary>
    /// After a <c>DELETE ... RETURNING user_id</c>: evicts what the deleted row's owner's answers took from it and answers
    /// true, or answers false when no row went (<paramref name="owner"/> null).
    /// </summary>
    public async Task<bool> InvalidateDeletedAsync(string? owner, UserChange change, CancellationToken cancellationToken)
    {
        if (owner is null)
        {
            return false;
        }

        await InvalidateAsync(owner, change, cancellationToken);
        return true;
    }

    /// <summary>Evicts the user's answers that <paramref name="change"/> can have changed from this node's L1 only (no L2 write, no backplane message).</summary>
    public ValueTask InvalidateOnThisNodeAsync(string userId, UserChange change, CancellationToken cancellationToken = default) =>
        cache.RemoveByTagAsync(TagsOf(userId, change), LocalOnly, cancellationToken);

    /// <summary>
    /// Expires every answer in this node's L1 (FusionCache's Clear keeping fail-safe values, local only): after this node
    /// may have missed invalidations. The next read of each key re-validates against L2 or the database.
    /// </summary>
    public ValueTask ExpireAllOnThisNodeAsync(CancellationToken cancellationToken = default) =>
        cache.ClearAsync(allowFailSafe: true, LocalOnly, cancellationToken);
}
