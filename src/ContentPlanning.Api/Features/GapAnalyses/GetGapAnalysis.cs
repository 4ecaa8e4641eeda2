using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GapAnalyses;

public static class GetGapAnalysis
{
    public sealed record Query(long Id) : IRequest<GapAnalysis?>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user) : IRequestHandler<Query, GapAnalysis?>
    {
        private const string Sql = $"SELECT {GapAnalysis.SelectColumns} FROM content_gap_analyses WHERE id = @Id AND (@Owner::text IS NULL OR user_id = @Owner)";

        public async Task<GapAnalysis?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<GapAnalysis>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/gap-analysis/{id:long}", async Task<Results<Ok<GapAnalysis>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(id), ct) is { } analysis ? TypedResults.Ok(analysis) : Problems.GapAnalysisNotFound(id))
            .WithSummary("Read one content gap analysis")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
