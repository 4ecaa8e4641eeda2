using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>A user's calendars, newest first, keyset-paginated like the other lists; summaries only (the schedule is on the single read).</summary>
public static class ListCalendars
{
    public sealed record Query(string? UserId, int Limit, string? Cursor) : IRequest<Page<Summary>>, IUserScoped;

    public sealed record Summary(long Id, string UserId, long? StrategyId, string CalendarType, DateOnly StartDate, DateOnly EndDate, int EventCount, DateTimeOffset CreatedAt);

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.Limit).ValidListLimit();
            RuleFor(x => x.Cursor).ValidCursor();
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Page<Summary>>
    {
        private const string Sql = """
            SELECT c.id, c.user_id, c.strategy_id, c.calendar_type, c.start_date, c.end_date,
                   (SELECT count(*)::int FROM calendar_events e WHERE e.calendar_id = c.id) AS event_count, c.created_at
            FROM generated_calendars c
            WHERE c.user_id = @UserId AND c.result IS NOT NULL
              AND (@HasCursor = false OR (c.created_at, c.id) < (@CursorAt, @CursorId))
            ORDER BY c.created_at DESC, c.id DESC
            LIMIT @Take
            """;

        public async Task<Page<Summary>> Handle(Query request, CancellationToken cancellationToken)
        {
            var hasCursor = KeysetCursor.TryDecode(request.Cursor, out var cursor);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = (await connection.QueryAsync<Summary>(new CommandDefinition(Sql, new
            {
                request.UserId,
                HasCursor = hasCursor,
                CursorAt = cursor.At,
                CursorId = cursor.Id,
                Take = request.Limit + 1,
            }, cancellationToken: cancellationToken))).ToList();
            return KeysetCursor.ToPage(rows, request.Limit, r => (r.CreatedAt, r.Id));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/calendars", async (string? user_id, int? limit, string? cursor, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new Query(user.UserIdOr(user_id), limit ?? FieldRules.DefaultListLimit, cursor), ct)))
            .WithSummary("List a user's generated calendars, newest first")
            .ProducesValidationProblem();
}
