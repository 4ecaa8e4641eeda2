using System.Text.Json.Serialization;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Recommendations;

/// <summary>
/// Full update: every field is replaced by the body's value (absent means null; priority and status fall back to
/// medium and pending). The owner never changes, and a strategy_id must name one of the owner's strategies.
/// </summary>
public static class UpdateRecommendation
{
    public sealed class Command : RecommendationFields, IRequest<WriteOutcome<Recommendation>>, IOwnedResource
    {
        [JsonIgnore]
        public long Id { get; set; }

        OwnedKind IOwnedResource.Kind => OwnedKind.Recommendation;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => Include(new RecommendationFieldsValidator());
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, WriteOutcome<Recommendation>>
    {
        private const string OwnerSql = "SELECT user_id FROM content_recommendations WHERE id = @Id FOR UPDATE";

        private const string Sql = $"""
            UPDATE content_recommendations
            SET strategy_id = @StrategyId, recommendation_type = @RecommendationType, title = @Title, description = @Description,
                target_keywords = @TargetKeywords, estimated_length = @EstimatedLength, priority = coalesce(@Priority, 'medium'),
                platforms = @Platforms, status = coalesce(@Status, 'pending'), updated_at = now()
            WHERE id = @Id
            RETURNING {Recommendation.SelectColumns}
            """;

        public async Task<WriteOutcome<Recommendation>> Handle(Command request, CancellationToken cancellationToken)
        {
            Recommendation updated;
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                var owner = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(OwnerSql, request, transaction, cancellationToken: cancellationToken));
                if (owner is null)
                {
                    return Problems.RecommendationNotFound(request.Id);
                }

                if (await References.CheckAsync(connection, transaction, owner, request.StrategyId, eventId: null, cancellationToken) is { } refused)
                {
                    return refused;
                }

                updated = await connection.QuerySingleAsync<Recommendation>(new CommandDefinition(Sql, request, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
            }
            catch (PostgresException ex) when (References.IsForeignKeyViolation(ex))
            {
                return References.VanishedReference();
            }

            await cache.InvalidateAsync(updated.UserId, UserChange.Data, cancellationToken);
            return updated;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPut("/recommendations/{id:long}", async Task<Results<Ok<Recommendation>, ProblemHttpResult>> (long id, Command command, IMediator mediator, CancellationToken ct) =>
            {
                command.Id = id;
                return (await mediator.Send(command, ct)).ToResult(TypedResults.Ok);
            })
            .WithSummary("Replace every field of a content recommendation")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem();
}
