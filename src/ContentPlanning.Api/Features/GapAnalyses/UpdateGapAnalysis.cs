using System.Text.Json.Serialization;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GapAnalyses;

/// <summary>Full update: every field is replaced by the body's value (absent means null). The owner (user_id) never changes.</summary>
public static class UpdateGapAnalysis
{
    public sealed class Command : GapAnalysisFields, IRequest<GapAnalysis?>, IOwnedResource
    {
        [JsonIgnore]
        public long Id { get; set; }

        OwnedKind IOwnedResource.Kind => OwnedKind.GapAnalysis;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => Include(new GapAnalysisFieldsValidator());
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, GapAnalysis?>
    {
        private const string Sql = $"""
            UPDATE content_gap_analyses
            SET website_url = @WebsiteUrl, competitor_urls = @CompetitorUrls, target_keywords = @TargetKeywords,
                analysis_results = @AnalysisResults, recommendations = @Recommendations, opportunities = @Opportunities,
                updated_at = now()
            WHERE id = @Id
            RETURNING {GapAnalysis.SelectColumns}
            """;

        public async Task<GapAnalysis?> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var updated = await connection.QuerySingleOrDefaultAsync<GapAnalysis>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
            if (updated is not null)
            {
                await cache.InvalidateAsync(updated.UserId, UserChange.Data, cancellationToken);
            }

            return updated;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPut("/gap-analysis/{id:long}", async Task<Results<Ok<GapAnalysis>, ProblemHttpResult>> (long id, Command command, IMediator mediator, CancellationToken ct) =>
            {
                command.Id = id;
                return await mediator.Send(command, ct) is { } analysis ? TypedResults.Ok(analysis) : Problems.GapAnalysisNotFound(id);
            })
            .WithSummary("Replace every field of a content gap analysis")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem();
}
