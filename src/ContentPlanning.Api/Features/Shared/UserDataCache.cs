using ContentPlanning.Caching;
using Dapper;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// The cache keys and tags of per-user answers, and their invalidation. Every write that can change what a user is
/// answered calls <see cref="InvalidateAsync"/> after its transaction commits: the user tag removes the active strategy
/// and the comprehensive data from L1 and L2 on every node (through the backplane).
/// </summary>
public sealed class UserDataCache(ITieredCache cache)
{
    public ITieredCache Cache { get; } = cache;

    public static string UserTag(string userId) => "user:" + userId;

    public static string[] UserTags(string userId) => [UserTag(userId)];

    /// <summary>
    /// Tags answers built from a user's calendars and calendar events (the strategy summary). Those rows are not part of the
    /// comprehensive data, so their writes evict this tag only and leave the user's comprehensive data cached.
    /// </summary>
    public static string CalendarTag(string userId) => "user-calendar:" + userId;

    public ValueTask InvalidateCalendarAsync(string userId, CancellationToken cancellationToken = default) =>
        Cache.RemoveByTagAsync(CalendarTag(userId), cancellationToken: cancellationToken);

    public ValueTask InvalidateAsync(string userId, CancellationToken cancellationToken = default) =>
        Cache.RemoveByTagAsync(UserTag(userId), cancellationToken: cancellationToken);

    /// <summary>
    /// Runs a single-row <c>DELETE ... RETURNING user_id</c> (autocommitted) and, when a row went, invalidates its owner.
    /// False when nothing matched.
    /// </summary>
    public async Task<bool> DeleteOwnedRowAsync(Npgsql.NpgsqlConnection connection, CommandDefinition delete)
    {
        var userId = await connection.QuerySingleOrDefaultAsync<string>(delete);
        if (userId is null)
        {
            return false;
        }

        await InvalidateAsync(userId, delete.CancellationToken);
        return true;
    }
}
