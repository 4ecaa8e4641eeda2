using Dapper;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// Checks that the strategy and calendar event a source row points at belong to the same user. Run inside the write's
/// transaction: FOR KEY SHARE holds the referenced row until commit, so a concurrent delete waits for the write and the
/// foreign key cannot fail in between.
/// </summary>
internal static class References
{
    private const string StrategyOwnerSql = "SELECT user_id FROM content_strategies WHERE id = @Id FOR KEY SHARE";

    private const string EventOwnerSql = """
        SELECT s.user_id
        FROM calendar_events e
        JOIN content_strategies s ON s.id = e.strategy_id
        WHERE e.id = @Id
        FOR KEY SHARE OF e
        """;

    /// <returns>Null when every given reference belongs to <paramref name="userId"/>; else the 404 problem to answer.</returns>
    public static async Task<ProblemHttpResult?> CheckAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string userId, long? strategyId, long? eventId, CancellationToken cancellationToken)
    {
        // Another user's row answers exactly like a missing one, so ids of other users' data are not disclosed.
        if (strategyId is { } sid && await OwnerAsync(StrategyOwnerSql, sid) != userId)
        {
            return Problems.NotFound($"Content strategy {sid} does not exist for user {userId}.");
        }

        if (eventId is { } eid && await OwnerAsync(EventOwnerSql, eid) != userId)
        {
            return Problems.NotFound($"Calendar event {eid} does not exist for user {userId}.");
        }

        return null;

        Task<string?> OwnerAsync(string sql, long id) =>
            connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(sql, new { Id = id }, transaction, cancellationToken: cancellationToken));
    }

    /// <summary>
    /// Inserts a row of <paramref name="userId"/> that may point at a strategy and a calendar event: checks the references
    /// and inserts in one transaction, then invalidates the user's cached answers. A refused check is its 404; a reference
    /// that vanished anyway is a 409; nothing is written in either case.
    /// </summary>
    public static async Task<WriteOutcome<T>> InsertAsync<T>(
        NpgsqlDataSource dataSource, UserDataCache cache, string userId, long? strategyId, long? eventId,
        Func<NpgsqlTransaction, CommandDefinition> insert, CancellationToken cancellationToken)
        where T : class
    {
        T created;
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (await CheckAsync(connection, transaction, userId, strategyId, eventId, cancellationToken) is { } refused)
            {
                return refused;
            }

            created = await connection.QuerySingleAsync<T>(insert(transaction));
            await transaction.CommitAsync(cancellationToken);
        }
        catch (PostgresException ex) when (IsForeignKeyViolation(ex))
        {
            return VanishedReference();
        }

        await cache.InvalidateAsync(userId, UserChange.Data, cancellationToken);
        return created;
    }

    /// <summary>A foreign key that failed anyway (the referenced row vanished between check and write): the client may retry.</summary>
    public static bool IsForeignKeyViolation(PostgresException exception) => exception.SqlState == PostgresErrorCodes.ForeignKeyViolation;

    public static ProblemHttpResult VanishedReference() =>
        Problems.Conflict("A referenced strategy or calendar event was deleted while this write ran; nothing was written.");
}
