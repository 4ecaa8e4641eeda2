using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Strategies;

public static class GetStrategy
{
    public sealed record Query(long Id) : IRequest<Strategy?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Strategy?>
    {
        public async Task<Strategy?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await Strategy.FindAsync(connection, request.Id, cancellationToken);
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/strategies/{id:long}", async Task<Results<Ok<Strategy>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id), ct) is { } strategy ? TypedResults.Ok(strategy) : Problems.StrategyNotFound(id))
                .WithTags("Strategies")
                .WithSummary("Read one content strategy")
                .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
