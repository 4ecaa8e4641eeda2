using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarEvents;

public static class GetCalendarEvent
{
    public sealed record Query(long Id) : IRequest<CalendarEvent?>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user) : IRequestHandler<Query, CalendarEvent?>
    {
        private const string Sql = $"""
            SELECT {CalendarEvent.SelectColumns}
            FROM calendar_events
            WHERE id = @Id AND (@Owner::text IS NULL OR strategy_id IN (SELECT id FROM content_strategies WHERE user_id = @Owner))
            """;

        public async Task<CalendarEvent?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<CalendarEvent>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/calendar-events/{id:long}", async Task<Results<Ok<CalendarEvent>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(id), ct) is { } found ? TypedResults.Ok(found) : Problems.NotFound($"Calendar event {id} does not exist."))
            .WithSummary("Read one calendar event")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
