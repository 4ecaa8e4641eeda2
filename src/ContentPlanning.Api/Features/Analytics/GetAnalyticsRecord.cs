using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Analytics;

public static class GetAnalyticsRecord
{
    public sealed record Query(long Id) : IRequest<AnalyticsRecord?>, IOwnerFilteredResource;

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user) : IRequestHandler<Query, AnalyticsRecord?>
    {
        private const string Sql = $"SELECT {AnalyticsRecord.SelectColumns} FROM content_analytics WHERE id = @Id AND (@Owner::text IS NULL OR user_id = @Owner)";

        public async Task<AnalyticsRecord?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<AnalyticsRecord>(new CommandDefinition(Sql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/analytics/{id:long}", async Task<Results<Ok<AnalyticsRecord>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(id), ct) is { } record ? TypedResults.Ok(record) : Problems.AnalyticsRecordNotFound(id))
            .WithSummary("Read one content analytics record")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
