using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarEvents;

public static class GetCalendarEvent
{
    public sealed record Query(long Id) : IRequest<CalendarEvent?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.CalendarEvent;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, CalendarEvent?>
    {
        private const string Sql = $"SELECT {CalendarEvent.SelectColumns} FROM calendar_events WHERE id = @Id";

        public async Task<CalendarEvent?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<CalendarEvent>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/calendar-events/{id:long}", async Task<Results<Ok<CalendarEvent>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id), ct) is { } found ? TypedResults.Ok(found) : Problems.NotFound($"Calendar event {id} does not exist."))
                .WithTags("Calendar events")
                .WithSummary("Read one calendar event")
                .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
