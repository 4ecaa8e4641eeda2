using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GapAnalyses;

public static class DeleteGapAnalysis
{
    public sealed record Command(long Id) : IRequest<bool>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user, UserDataCache cache) : IRequestHandler<Command, bool>
    {
        private const string Sql = "DELETE FROM content_gap_analyses WHERE id = @Id AND (@Owner::text IS NULL OR user_id = @Owner) RETURNING user_id";

        public async Task<bool> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var owner = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
            return await cache.InvalidateDeletedAsync(owner, UserChange.Data, cancellationToken);
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete("/gap-analysis/{id:long}", async Task<Results<NoContent, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Command(id), ct) ? TypedResults.NoContent() : Problems.GapAnalysisNotFound(id))
            .WithSummary("Delete a content gap analysis")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
