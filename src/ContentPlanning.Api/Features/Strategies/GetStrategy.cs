using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Strategies;

public static class GetStrategy
{
    public sealed record Query(long Id) : IRequest<Strategy?>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user) : IRequestHandler<Query, Strategy?>
    {
        private static readonly string Sql = $"SELECT {Strategy.SelectColumns} FROM content_strategies s WHERE s.id = @Id AND (@Owner::text IS NULL OR s.user_id = @Owner)";

        public async Task<Strategy?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<Strategy>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/strategies/{id:long}", async Task<Results<Ok<Strategy>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(id), ct) is { } strategy ? TypedResults.Ok(strategy) : Problems.StrategyNotFound(id))
            .WithSummary("Read one content strategy")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
