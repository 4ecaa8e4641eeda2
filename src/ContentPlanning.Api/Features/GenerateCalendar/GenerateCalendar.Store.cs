using System.Text.Json;
using System.Text.Json.Nodes;
using System.Transactions;
using ContentPlanning.Api.Features.CalendarJobs;
using ContentPlanning.Api.Features.Shared;
using Dapper;
using Npgsql;

namespace ContentPlanning.Api.Features.GenerateCalendar;

public static partial class GenerateCalendar
{
    private const string KeyedSql = "SELECT id, request_hash, result::text FROM generated_calendars WHERE user_id = @UserId AND idempotency_key = @Key";

    // Nothing is inserted when the strategy was deleted meanwhile (404); once the row is in, its foreign key holds the
    // strategy until commit. A delete that commits between this statement's snapshot and its key check is a 409.
    private const string InsertCalendarSql = """
        INSERT INTO generated_calendars (user_id, strategy_id, calendar_type, start_date, end_date, request, idempotency_key, request_hash)
        SELECT @UserId, @StrategyId, @CalendarType, @StartDate, @EndDate, @Request::jsonb, @Key, @Hash
        WHERE EXISTS (SELECT 1 FROM content_strategies WHERE id = @StrategyId)
        RETURNING id
        """;

    // All events in one statement, whatever their number; piece_index maps the returned ids back to the pieces.
    private const string InsertEventsSql = """
        INSERT INTO calendar_events (strategy_id, calendar_id, title, description, content_type, platform, scheduled_at, status, pillar, details)
        SELECT @StrategyId, @CalendarId, e.title, e.description, e.content_type, e.platform, e.scheduled_at, 'scheduled', e.pillar, e.details
        FROM jsonb_to_recordset(@Events::jsonb) AS e(title text, description text, content_type text, platform text,
                                                      scheduled_at timestamptz, pillar text, details jsonb)
        RETURNING id, (details ->> 'piece_index')::int AS piece_index
        """;

    private const string StoreResultSql = "UPDATE generated_calendars SET result = @Result::jsonb WHERE id = @Id";

    /// <summary>The calendar stored earlier for the user's key: a replay for the same request, else a reused key; null if none.</summary>
    internal static async Task<Outcome?> FindKeyedAsync(NpgsqlConnection connection, string userId, string key, string hash, CancellationToken cancellationToken)
    {
        var found = await connection.QuerySingleOrDefaultAsync<(long Id, string? Hash, string? Result)?>(
            new CommandDefinition(KeyedSql, new { UserId = userId, Key = key }, cancellationToken: cancellationToken));
        return found switch
        {
            null => null,
            { Hash: var stored } when stored == hash => new Outcome.Replayed(found.Value.Id, JsonNode.Parse(found.Value.Result!)!),
            _ => new Outcome.KeyReused(key),
        };
    }

    /// <summary>
    /// Stores the calendar, one calendar_events row per piece and the answer in one transaction (ambient, so a job's
    /// observer and the library it writes through join it). With an Idempotency-Key, same-key requests queue on the key's
    /// transaction-level lock, and one that finds the key stored meanwhile answers that calendar instead.
    /// </summary>
    internal static async Task<Outcome> StoreAsync(
        NpgsqlConnection connection, Command request, string requestJson, string hash, Calendar draft, Plan plan, IGenerationObserver? observer,
        JsonSerializerOptions options, CancellationToken cancellationToken)
    {
        var eventsJson = JsonSerializer.Serialize(plan.Pieces.Select(p => new
        {
            p.Title,
            p.Description,
            p.ContentType,
            p.Platform,
            ScheduledAt = p.PostingTime,
            p.Pillar,
            Details = new { PieceIndex = p.Index, p.WeeklyTheme, p.WeekNumber, p.KeyMessage, p.CallToAction, p.Keywords, p.RecommendationId },
        }), options);

        using var scope = AmbientTransaction.Begin();
        connection.EnlistTransaction(Transaction.Current);
        try
        {
            if (request.IdempotencyKey is { } key)
            {
                await IdempotencyKey.LockAsync(connection, "generate-calendar", request.UserId!, key, cancellationToken);
                if (await FindKeyedAsync(connection, request.UserId!, key, hash, cancellationToken) is { } stored)
                {
                    return stored;
                }
            }

            if (await connection.ExecuteScalarAsync<long?>(new CommandDefinition(InsertCalendarSql, new
            {
                request.UserId,
                draft.StrategyId,
                draft.CalendarType,
                draft.StartDate,
                draft.EndDate,
                Request = requestJson,
                Key = request.IdempotencyKey,
                Hash = hash,
            }, cancellationToken: cancellationToken)) is not { } id)
            {
                return new Outcome.StrategyDeleted($"Content strategy {draft.StrategyId} was deleted while its calendar was generated; nothing was stored.");
            }

            var eventIds = (await connection.QueryAsync<(long Id, int PieceIndex)>(new CommandDefinition(InsertEventsSql,
                    new { draft.StrategyId, CalendarId = id, Events = eventsJson }, cancellationToken: cancellationToken)))
                .ToDictionary(x => x.PieceIndex, x => x.Id);

            var calendar = draft with
            {
                Id = id,
                DailySchedule = plan.Pieces.Select(p => new ScheduledPiece(eventIds[p.Index], p.Date, p.DayName, p.WeekNumber, p.WeeklyTheme, p.Pillar,
                    p.Platform, p.ContentType, p.Title, p.Description, p.KeyMessage, p.CallToAction, p.PostingTime, p.Keywords, p.RecommendationId, "scheduled")).ToList(),
            };
            await connection.ExecuteAsync(new CommandDefinition(StoreResultSql, new { Id = id, Result = JsonSerializer.Serialize(calendar, options) },
                cancellationToken: cancellationToken));
            if (observer is not null)
            {
                await observer.StoringAsync(connection, id, cancellationToken);
            }

            scope.Complete();
            scope.Dispose(); // The commit, inside the try: the user's byte bound is checked by a trigger at commit.
            return new Outcome.Created(id, JsonSerializer.SerializeToNode(calendar, options)!);
        }
        catch (PostgresException ex) when (References.IsForeignKeyViolation(ex))
        {
            return new Outcome.ReferenceVanished("A referenced strategy or calendar event was deleted while this write ran; nothing was written.");
        }
        catch (PostgresException ex) when (ex.SqlState == "CP413")
        {
            // The user's data is at its bound (migration 0012): another attempt would be refused the same way.
            return new Outcome.UserDataFull(
                $"This calendar's events would take the user's stored data past {ex.Hint} bytes (Database__MaxUserSourceBytes); delete or shrink some first.");
        }
    }
}
