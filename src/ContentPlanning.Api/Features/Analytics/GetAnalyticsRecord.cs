using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Analytics;

public static class GetAnalyticsRecord
{
    public sealed record Query(long Id) : IRequest<AnalyticsRecord?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.AnalyticsRecord;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, AnalyticsRecord?>
    {
        private const string Sql = $"SELECT {AnalyticsRecord.SelectColumns} FROM content_analytics WHERE id = @Id";

        public async Task<AnalyticsRecord?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<AnalyticsRecord>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/analytics/{id:long}", async Task<Results<Ok<AnalyticsRecord>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id), ct) is { } record ? TypedResults.Ok(record) : Problems.AnalyticsRecordNotFound(id))
                .WithTags("Analytics")
                .WithSummary("Read one content analytics record")
                .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
