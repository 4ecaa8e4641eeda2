using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Recommendations;

public static class GetRecommendation
{
    public sealed record Query(long Id) : IRequest<Recommendation?>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user) : IRequestHandler<Query, Recommendation?>
    {
        private const string Sql = $"SELECT {Recommendation.SelectColumns} FROM content_recommendations WHERE id = @Id AND (@Owner::text IS NULL OR user_id = @Owner)";

        public async Task<Recommendation?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<Recommendation>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/recommendations/{id:long}", async Task<Results<Ok<Recommendation>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(id), ct) is { } recommendation ? TypedResults.Ok(recommendation) : Problems.RecommendationNotFound(id))
            .WithSummary("Read one content recommendation")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
