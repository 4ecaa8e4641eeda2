using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Recommendations;

/// <summary>Records a recommendation; a strategy_id must name a strategy of the same user (404 otherwise).</summary>
public static class CreateRecommendation
{
    public sealed class Command : RecommendationFields, IRequest<WriteOutcome<Recommendation>>, IUserScoped
    {
        public string? UserId { get; set; }
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            Include(new RecommendationFieldsValidator());
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, WriteOutcome<Recommendation>>
    {
        private const string Sql = $"""
            INSERT INTO content_recommendations (user_id, strategy_id, recommendation_type, title, description, target_keywords,
                                                 estimated_length, priority, platforms, status)
            VALUES (@UserId, @StrategyId, @RecommendationType, @Title, @Description, @TargetKeywords,
                    @EstimatedLength, coalesce(@Priority, 'medium'), @Platforms, coalesce(@Status, 'pending'))
            RETURNING {Recommendation.SelectColumns}
            """;

        public Task<WriteOutcome<Recommendation>> Handle(Command request, CancellationToken cancellationToken) =>
            References.InsertAsync<Recommendation>(
                dataSource, cache, request.UserId!, request.StrategyId, eventId: null,
                transaction => new CommandDefinition(Sql, request, transaction, cancellationToken: cancellationToken),
                cancellationToken);
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/recommendations", async Task<Results<Created<Recommendation>, ProblemHttpResult>> (Command command, CurrentUser user, IMediator mediator, CancellationToken ct) =>
            {
                command.UserId = user.UserIdOr(command.UserId);
                return (await mediator.Send(command, ct)).ToResult(created =>
                    TypedResults.Created($"{FeatureRegistration.RoutePrefix}/recommendations/{created.Id}", created));
            })
            .WithSummary("Record a content recommendation")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem();
}
