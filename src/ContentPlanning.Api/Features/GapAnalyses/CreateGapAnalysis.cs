using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GapAnalyses;

public static class CreateGapAnalysis
{
    public sealed class Command : GapAnalysisFields, IRequest<GapAnalysis>, IUserScoped
    {
        public string? UserId { get; set; }
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            Include(new GapAnalysisFieldsValidator());
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, GapAnalysis>
    {
        private const string Sql = $"""
            INSERT INTO content_gap_analyses (user_id, website_url, competitor_urls, target_keywords, analysis_results, recommendations, opportunities)
            VALUES (@UserId, @WebsiteUrl, @CompetitorUrls, @TargetKeywords, @AnalysisResults, @Recommendations, @Opportunities)
            RETURNING {GapAnalysis.SelectColumns}
            """;

        public async Task<GapAnalysis> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var created = await connection.QuerySingleAsync<GapAnalysis>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
            await cache.InvalidateAsync(created.UserId, UserChange.Data, cancellationToken);
            return created;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/gap-analysis", async Task<Created<GapAnalysis>> (Command command, CurrentUser user, IMediator mediator, CancellationToken ct) =>
            {
                command.UserId = user.UserIdOr(command.UserId);
                var analysis = await mediator.Send(command, ct);
                return TypedResults.Created($"{FeatureRegistration.RoutePrefix}/gap-analysis/{analysis.Id}", analysis);
            })
            .WithSummary("Record a content gap analysis")
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem();
}
