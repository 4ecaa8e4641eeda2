using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Analytics;

/// <summary>
/// Analytics records of a user and/or a strategy (at least one), optionally of one platform, newest first, with keyset
/// pagination: <c>next_cursor</c> is passed back as <c>cursor</c>. Served at <c>/analytics</c> and, for one strategy that must
/// exist (404 otherwise), at <c>/strategies/{id}/analytics</c>.
/// </summary>
public static class ListAnalyticsRecords
{
    public sealed record Query(string? UserId, long? StrategyId, string? Platform, int Limit, string? Cursor, bool StrategyMustExist = false)
        : IRequest<Page<AnalyticsRecord>?>, IUserScoped, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => StrategyId;
    }

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).NotEmpty().When(x => x.StrategyId is null).WithMessage("'user_id' or 'strategy_id' is required.");
            RuleFor(x => x.UserId).ValidUserId().When(x => x.UserId is not null);
            RuleFor(x => x.StrategyId).GreaterThan(0);
            RuleFor(x => x.Platform).MaximumLength(100);
            RuleFor(x => x.Limit).ValidListLimit();
            RuleFor(x => x.Cursor).ValidCursor();
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Page<AnalyticsRecord>?>
    {
        private const string Sql = $"""
            SELECT {AnalyticsRecord.SelectColumns}
            FROM content_analytics
            WHERE (@UserId::text IS NULL OR user_id = @UserId)
              AND (@StrategyId::bigint IS NULL OR strategy_id = @StrategyId)
              AND (@Platform::text IS NULL OR platform = @Platform)
              AND (@HasCursor = false OR (recorded_at, id) < (@CursorAt, @CursorId))
            ORDER BY recorded_at DESC, id DESC
            LIMIT @Take
            """;

        // The strategy route answers 404 for a strategy that does not exist: checked in the same round trip.
        private const string StrategyExistsSql = "SELECT EXISTS (SELECT 1 FROM content_strategies WHERE id = @StrategyId);\n" + Sql;

        public async Task<Page<AnalyticsRecord>?> Handle(Query request, CancellationToken cancellationToken)
        {
            var hasCursor = KeysetCursor.TryDecode(request.Cursor, out var cursor);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(request.StrategyMustExist ? StrategyExistsSql : Sql, new
            {
                request.UserId,
                request.StrategyId,
                request.Platform,
                HasCursor = hasCursor,
                CursorAt = cursor.At,
                CursorId = cursor.Id,
                Take = request.Limit + 1,
            }, cancellationToken: cancellationToken));
            if (request.StrategyMustExist && !await grid.ReadSingleAsync<bool>())
            {
                return null;
            }

            var rows = (await grid.ReadAsync<AnalyticsRecord>()).ToList();
            return KeysetCursor.ToPage(rows, request.Limit, r => (r.RecordedAt, r.Id));
        }
    }

    internal static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/analytics", async (string? user_id, long? strategy_id, string? platform, int? limit, string? cursor, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                TypedResults.Ok(await mediator.Send(new Query(user.UserIdOr(user_id), strategy_id, platform, limit ?? FieldRules.DefaultListLimit, cursor), ct)))
            .WithSummary("List analytics records by user and/or strategy, optionally of one platform, newest first")
            .ProducesValidationProblem();

        app.MapGet("/strategies/{id:long}/analytics", async Task<Results<Ok<Page<AnalyticsRecord>>, ProblemHttpResult>> (
                    long id, string? platform, int? limit, string? cursor, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(user.UserIdOr(null), id, platform, limit ?? FieldRules.DefaultListLimit, cursor, StrategyMustExist: true), ct) is { } page
                    ? TypedResults.Ok(page)
                    : Problems.StrategyNotFound(id))
            .WithName("listStrategyAnalytics")
            .WithSummary("A strategy's analytics records, optionally of one platform, newest first (the /analytics list for one strategy)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem();
    }
}
