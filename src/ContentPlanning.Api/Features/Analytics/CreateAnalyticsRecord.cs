using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Analytics;

/// <summary>Records a measurement; a strategy_id or event_id must name a strategy or calendar event of the same user (404 otherwise).</summary>
public static class CreateAnalyticsRecord
{
    public sealed class Command : IRequest<WriteOutcome<AnalyticsRecord>>, IUserScoped
    {
        public string? UserId { get; set; }
        public long? StrategyId { get; set; }
        public long? EventId { get; set; }
        public string? Platform { get; set; }

        /// <summary>A JSON object of counters (views, clicks, shares...); absent means <c>{}</c>.</summary>
        public JsonNode? Metrics { get; set; }

        /// <summary>0..100.</summary>
        public float? PerformanceScore { get; set; }
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.Platform).NotEmpty().MaximumLength(100);
            RuleFor(x => x.StrategyId).GreaterThan(0);
            RuleFor(x => x.EventId).GreaterThan(0);
            RuleFor(x => x.Metrics).JsonObjectOrAbsent();
            RuleFor(x => x.PerformanceScore).InclusiveBetween(0f, 100f);
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, WriteOutcome<AnalyticsRecord>>
    {
        private const string Sql = $"""
            INSERT INTO content_analytics (user_id, strategy_id, event_id, platform, metrics, performance_score)
            VALUES (@UserId, @StrategyId, @EventId, @Platform, coalesce(@Metrics, jsonb_build_object()), @PerformanceScore)
            RETURNING {AnalyticsRecord.SelectColumns}
            """;

        public Task<WriteOutcome<AnalyticsRecord>> Handle(Command request, CancellationToken cancellationToken) =>
            References.InsertAsync<AnalyticsRecord>(
                dataSource, cache, request.UserId!, request.StrategyId, request.EventId,
                transaction => new CommandDefinition(Sql, request, transaction, cancellationToken: cancellationToken),
                cancellationToken);
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/analytics", async Task<Results<Created<AnalyticsRecord>, ProblemHttpResult>> (Command command, CurrentUser user, IMediator mediator, CancellationToken ct) =>
            {
                command.UserId = user.UserIdOr(command.UserId);
                return (await mediator.Send(command, ct)).ToResult(created =>
                    TypedResults.Created($"{FeatureRegistration.RoutePrefix}/analytics/{created.Id}", created));
            })
            .WithSummary("Record a content performance measurement")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem();
}
