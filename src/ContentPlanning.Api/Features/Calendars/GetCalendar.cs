using System.Text.Json.Nodes;
using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>A generated calendar exactly as generation answered it (not cached: a read is one indexed row).</summary>
public static class GetCalendar
{
    public sealed record Query(long Id) : IRequest<JsonNode?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Calendar;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, JsonNode?>
    {
        private const string Sql = "SELECT result::text FROM generated_calendars WHERE id = @Id AND result IS NOT NULL";

        public async Task<JsonNode?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var text = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
            return text is null ? null : JsonNode.Parse(text);
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/calendars/{id:long}", async Task<Results<Ok<JsonNode>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id), ct) is { } calendar ? TypedResults.Ok(calendar) : Problems.NotFound($"Calendar {id} does not exist."))
                .WithTags("Calendars")
                .WithSummary("Read one generated calendar")
                .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
