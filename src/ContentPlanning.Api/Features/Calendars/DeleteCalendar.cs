using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>Deletes a calendar; its events go with it (ON DELETE CASCADE) in the same statement.</summary>
public static class DeleteCalendar
{
    public sealed record Command(long Id) : IRequest<bool>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user, UserDataCache cache) : IRequestHandler<Command, bool>
    {
        private const string Sql = "DELETE FROM generated_calendars WHERE id = @Id AND (@Owner::text IS NULL OR user_id = @Owner) RETURNING user_id";

        public async Task<bool> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var owner = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
            if (owner is null)
            {
                return false;
            }

            await cache.InvalidateCalendarAsync(owner, cancellationToken);
            return true;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete("/calendars/{id:long}", async Task<Results<NoContent, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Command(id), ct) ? TypedResults.NoContent() : Problems.NotFound($"Calendar {id} does not exist."))
            .WithSummary("Delete a generated calendar and its events")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
