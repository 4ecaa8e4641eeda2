using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Recommendations;

public static class GetRecommendation
{
    public sealed record Query(long Id) : IRequest<Recommendation?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Recommendation;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Recommendation?>
    {
        private const string Sql = $"SELECT {Recommendation.SelectColumns} FROM content_recommendations WHERE id = @Id";

        public async Task<Recommendation?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<Recommendation>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/recommendations/{id:long}", async Task<Results<Ok<Recommendation>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id), ct) is { } recommendation ? TypedResults.Ok(recommendation) : Problems.RecommendationNotFound(id))
                .WithTags("Recommendations")
                .WithSummary("Read one content recommendation")
                .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
