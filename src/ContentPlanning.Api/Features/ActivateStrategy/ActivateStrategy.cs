using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.ActivateStrategy;

/// <summary>
/// Activate, deactivate or pause a strategy. Activation is one transaction: the user's previously active strategy
/// becomes inactive and this one active. Activations of one user are serialised by an advisory lock; the partial
/// unique index stays the final guard, and its violation is retried, never surfaced.
/// </summary>
public static partial class ActivateStrategy
{
    public enum TargetStatus
    {
        Active,
        Inactive,
        Paused,
    }

    public sealed record Command(long Id, TargetStatus Status) : IRequest<Response?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => Id;
    }

    public sealed record Response(
        ActivationRecord Activation,
        StrategySummary Strategy,
        long? PreviousActiveStrategyId,
        bool Changed);

    public sealed record ActivationRecord(long StrategyId, string UserId, string Status, DateTimeOffset? ActivationDate, float? PerformanceScore, DateTimeOffset LastUpdated);

    public sealed record StrategySummary(long Id, string UserId, string Name, string? Industry, float CompletionPercentage, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

    internal sealed partial class Handler(NpgsqlDataSource dataSource, UserDataCache cache, ILogger<Handler> logger) : IRequestHandler<Command, Response?>
    {
        private const int MaxAttempts = 5;

        private const string StrategySql = """
            SELECT id, user_id, name, industry, completion_percentage, created_at, updated_at
            FROM content_strategies WHERE id = @Id
            """;

        // One user's activation changes queue here, so "deactivate the previous, activate this" is never interleaved.
        private const string LockSql = "SELECT pg_advisory_xact_lock(hashtextextended('strategy-activation:' || @UserId, 0))";

        // Taken after the user's lock, before any activation row is written: a DELETE of the strategy (which locks the
        // strategy row, then the user's version row through its triggers) and this activation (which writes the version
        // row through the same triggers) then take their locks in one order, so they can no longer deadlock, and a
        // strategy deleted while this request waited is seen as gone.
        private const string LockStrategySql = "SELECT id FROM content_strategies WHERE id = @Id FOR KEY SHARE";

        private const string CurrentSql = """
            SELECT strategy_id, user_id, status, activation_date, performance_score, last_updated
            FROM strategy_activation_status WHERE strategy_id = @Id
            """;

        private const string DeactivatePreviousSql = """
            UPDATE strategy_activation_status SET status = 'inactive', last_updated = now()
            WHERE user_id = @UserId AND status = 'active' AND strategy_id <> @Id
            RETURNING strategy_id
            """;

        private const string UpsertSql = """
            INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date, last_updated)
            VALUES (@Id, @UserId, @Status, CASE WHEN @Status = 'active' THEN now() END, now())
            ON CONFLICT (strategy_id) DO UPDATE
               SET status = EXCLUDED.status,
                   activation_date = CASE WHEN EXCLUDED.status = 'active' THEN now() ELSE strategy_activation_status.activation_date END,
                   last_updated = now()
            RETURNING strategy_id, user_id, status, activation_date, performance_score, last_updated
            """;

        public async Task<Response?> Handle(Command request, CancellationToken cancellationToken)
        {
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    var response = await ChangeAsync(request, cancellationToken);
                    if (response is { Changed: true })
                    {
                        await cache.InvalidateAsync(response.Strategy.UserId, UserChange.Strategy, cancellationToken);
                    }

                    return response;
                }
                catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation && attempt < MaxAttempts)
                {
                    LogRetry(logger, request.Id, attempt, ex.ConstraintName);
                }
            }
        }

        private async Task<Response?> ChangeAsync(Command request, CancellationToken cancellationToken)
        {
            var status = request.Status.ToString().ToLowerInvariant();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

            var strategy = await connection.QuerySingleOrDefaultAsync<StrategySummary>(new CommandDefinition(StrategySql, new { request.Id }, transaction, cancellationToken: cancellationToken));
            if (strategy is null)
            {
                return null;
            }

            var args = new { request.Id, strategy.UserId, Status = status };
            await connection.ExecuteAsync(new CommandDefinition(LockSql, args, transaction, cancellationToken: cancellationToken));
            if (await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(LockStrategySql, args, transaction, cancellationToken: cancellationToken)) is null)
            {
                return null;
            }

            var current = await connection.QuerySingleOrDefaultAsync<ActivationRecord>(new CommandDefinition(CurrentSql, args, transaction, cancellationToken: cancellationToken));
            if (current?.Status == status)
            {
                await transaction.CommitAsync(cancellationToken);
                return new Response(current, strategy, status == "active" ? strategy.Id : null, Changed: false);
            }

            long? previous = null;
            if (request.Status == TargetStatus.Active)
            {
                previous = await connection.QuerySingleOrDefaultAsync<long?>(new CommandDefinition(DeactivatePreviousSql, args, transaction, cancellationToken: cancellationToken));
            }

            var activation = await connection.QuerySingleAsync<ActivationRecord>(new CommandDefinition(UpsertSql, args, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            return new Response(activation, strategy, previous ?? (current?.Status == "active" ? strategy.Id : null), Changed: true);
        }

        [LoggerMessage(Level = LogLevel.Information, Message = "Activation of strategy {StrategyId} hit {Constraint} (attempt {Attempt}); retrying")]
        private static partial void LogRetry(ILogger logger, long strategyId, int attempt, string? constraint);
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup("/strategies/{id:long}").WithTags("Strategy activation");
            group.MapPost("/activate", (long id, IMediator mediator, CancellationToken ct) => Change(id, TargetStatus.Active, mediator, ct))
                .WithSummary("Make this the user's active strategy (the previous active one becomes inactive)")
                .ProducesProblem(StatusCodes.Status404NotFound);
            group.MapPost("/deactivate", (long id, IMediator mediator, CancellationToken ct) => Change(id, TargetStatus.Inactive, mediator, ct))
                .WithName("deactivateStrategy")
                .WithSummary("Mark the strategy inactive")
                .ProducesProblem(StatusCodes.Status404NotFound);
            group.MapPost("/pause", (long id, IMediator mediator, CancellationToken ct) => Change(id, TargetStatus.Paused, mediator, ct))
                .WithName("pauseStrategy")
                .WithSummary("Mark the strategy paused")
                .ProducesProblem(StatusCodes.Status404NotFound);
        }

        private static async Task<Results<Ok<Response>, ProblemHttpResult>> Change(long id, TargetStatus status, IMediator mediator, CancellationToken ct) =>
            await mediator.Send(new Command(id, status), ct) is { } response ? TypedResults.Ok(response) : Problems.StrategyNotFound(id);
    }
}
