using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarEvents;

/// <summary>
/// Events by user, calendar and/or strategy (at least one), with filters, keyset-paged by scheduled time ascending. Served at
/// <c>/calendar-events</c> and, for one strategy that must exist (404 otherwise), at <c>/strategies/{id}/events</c>.
/// </summary>
public static class ListCalendarEvents
{
    public sealed record Query(
        string? UserId, long? CalendarId, long? StrategyId, string? Status, string? Platform, DateTimeOffset? From, DateTimeOffset? To, int Limit, string? Cursor,
        bool StrategyMustExist = false)
        : IRequest<Page<CalendarEvent>?>, IUserScoped, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => CalendarId is null ? OwnedKind.Strategy : OwnedKind.Calendar;

        long? IOwnedResource.ResourceId => CalendarId ?? StrategyId;
    }

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).NotEmpty().When(x => x.StrategyId is null && x.CalendarId is null)
                .WithMessage("'user_id', 'calendar_id' or 'strategy_id' is required.");
            RuleFor(x => x.UserId).ValidUserId().When(x => x.UserId is not null);
            RuleFor(x => x.CalendarId).GreaterThan(0);
            RuleFor(x => x.StrategyId).GreaterThan(0);
            RuleFor(x => x.Status).Must(s => CalendarEvent.Statuses.Contains(s)).When(x => x.Status is not null)
                .WithMessage("status must be draft, scheduled, published or cancelled.");
            RuleFor(x => x.Platform).MaximumLength(50);
            RuleFor(x => x.Limit).ValidListLimit();
            RuleFor(x => x.Cursor).ValidCursor();
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Page<CalendarEvent>?>
    {
        // Ascending by time: the cursor is the last (scheduled_at, id) seen; without one, the minimum values start the page.
        // The user's strategies are an array (an InitPlan), not an IN (subquery): inside the OR, PostgreSQL cannot turn
        // the subquery into a join and filters every event of every user through it (a sequential scan of the table);
        // the array is an index condition on the strategy index, so a page costs the user's events, not the table's.
        internal const string Sql = $"""
            SELECT {CalendarEvent.SelectColumns}
            FROM calendar_events e
            WHERE (@UserId::text IS NULL OR e.strategy_id = ANY (ARRAY(SELECT id FROM content_strategies WHERE user_id = @UserId)))
              AND (@CalendarId::bigint IS NULL OR e.calendar_id = @CalendarId)
              AND (@StrategyId::bigint IS NULL OR e.strategy_id = @StrategyId)
              AND (@Status::text IS NULL OR e.status = @Status)
              AND (@Platform::text IS NULL OR e.platform = @Platform)
              AND (@From::timestamptz IS NULL OR e.scheduled_at >= @From)
              AND (@To::timestamptz IS NULL OR e.scheduled_at < @To)
              AND (@HasCursor = false OR (e.scheduled_at, e.id) > (@CursorAt, @CursorId))
            ORDER BY e.scheduled_at, e.id
            LIMIT @Take
            """;

        // The strategy route answers 404 for a strategy that does not exist: checked in the same round trip.
        private const string StrategyExistsSql = "SELECT EXISTS (SELECT 1 FROM content_strategies WHERE id = @StrategyId);\n" + Sql;

        public async Task<Page<CalendarEvent>?> Handle(Query request, CancellationToken cancellationToken)
        {
            var hasCursor = KeysetCursor.TryDecode(request.Cursor, out var cursor);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(request.StrategyMustExist ? StrategyExistsSql : Sql, new
            {
                request.UserId,
                request.CalendarId,
                request.StrategyId,
                request.Status,
                request.Platform,
                request.From,
                request.To,
                HasCursor = hasCursor,
                CursorAt = cursor.At,
                CursorId = cursor.Id,
                Take = request.Limit + 1,
            }, cancellationToken: cancellationToken));
            if (request.StrategyMustExist && !await grid.ReadSingleAsync<bool>())
            {
                return null;
            }

            var rows = (await grid.ReadAsync<CalendarEvent>()).ToList();
            return KeysetCursor.ToPage(rows, request.Limit, r => (r.ScheduledAt, r.Id));
        }
    }

    internal static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/calendar-events", async (
                    string? user_id, long? calendar_id, long? strategy_id, string? status, string? platform, DateTimeOffset? from, DateTimeOffset? to,
                    int? limit, string? cursor, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(
                    new Query(user.UserIdOr(user_id), calendar_id, strategy_id, status, platform, from, to, limit ?? FieldRules.DefaultListLimit, cursor), ct)))
            .WithSummary("List calendar events by user, calendar and/or strategy, by scheduled time")
            .ProducesValidationProblem();

        app.MapGet("/strategies/{id:long}/events", async Task<Results<Ok<Page<CalendarEvent>>, ProblemHttpResult>> (
                    long id, string? status, string? platform, DateTimeOffset? from, DateTimeOffset? to, int? limit, string? cursor,
                    CurrentUser user, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(user.UserIdOr(null), null, id, status, platform, from, to, limit ?? FieldRules.DefaultListLimit, cursor,
                    StrategyMustExist: true), ct) is { } page
                    ? TypedResults.Ok(page)
                    : Problems.StrategyNotFound(id))
            .WithName("listStrategyEvents")
            .WithSummary("A strategy's calendar events by scheduled time (the /calendar-events list for one strategy)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem();
    }
}
