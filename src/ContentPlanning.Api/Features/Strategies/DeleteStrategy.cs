using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Strategies;

/// <summary>Deletes a strategy with its activation row and calendar events (cascade); recommendations and analytics keep their rows, unlinked.</summary>
public static class DeleteStrategy
{
    public sealed record Command(long Id) : IRequest<bool>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user, UserDataCache cache) : IRequestHandler<Command, bool>
    {
        private const string Sql = "DELETE FROM content_strategies WHERE id = @Id AND (@Owner::text IS NULL OR user_id = @Owner) RETURNING user_id";

        public async Task<bool> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var owner = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
            return await cache.InvalidateDeletedAsync(owner, UserChange.Strategy, cancellationToken);
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete("/strategies/{id:long}", async Task<Results<NoContent, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Command(id), ct) ? TypedResults.NoContent() : Problems.StrategyNotFound(id))
            .WithSummary("Delete a content strategy")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
