using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using FluentValidation;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarEvents;

/// <summary>Events by user, calendar and/or strategy (at least one), with filters, keyset-paged by scheduled time ascending.</summary>
public static class ListCalendarEvents
{
    public sealed record Query(
        string? UserId, long? CalendarId, long? StrategyId, string? Status, string? Platform, DateTimeOffset? From, DateTimeOffset? To, int Limit, string? Cursor)
        : IRequest<Page<CalendarEvent>>, IUserScoped, IOwnedResource
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

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Page<CalendarEvent>>
    {
        // Ascending by time: the cursor is the last (scheduled_at, id) seen; without one, the minimum values start the page.
        private const string Sql = $"""
            SELECT {CalendarEvent.SelectColumns}
            FROM calendar_events e
            WHERE (@UserId::text IS NULL OR e.strategy_id IN (SELECT id FROM content_strategies WHERE user_id = @UserId))
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

        public async Task<Page<CalendarEvent>> Handle(Query request, CancellationToken cancellationToken)
        {
            var hasCursor = KeysetCursor.TryDecode(request.Cursor, out var cursor);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = (await connection.QueryAsync<CalendarEvent>(new CommandDefinition(Sql, new
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
            }, cancellationToken: cancellationToken))).ToList();
            return KeysetCursor.ToPage(rows, request.Limit, r => (r.ScheduledAt, r.Id));
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/calendar-events", async (
                        string? user_id, long? calendar_id, long? strategy_id, string? status, string? platform, DateTimeOffset? from, DateTimeOffset? to,
                        int? limit, string? cursor, IMediator mediator, CancellationToken ct) =>
                    TypedResults.Ok(await mediator.Send(
                        new Query(user_id, calendar_id, strategy_id, status, platform, from, to, limit ?? FieldRules.DefaultListLimit, cursor), ct)))
                .WithTags("Calendar events")
                .WithSummary("List calendar events by user, calendar and/or strategy, by scheduled time")
                .ProducesValidationProblem();
    }
}
