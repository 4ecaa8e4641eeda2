using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using FluentValidation;
using MediatR;
using Npgsql;
using ZiggyCreatures.Caching.Fusion;
using Comprehensive = ContentPlanning.Api.Features.GetComprehensiveUserData.GetComprehensiveUserData;

namespace ContentPlanning.Api.Features.CacheAdmin;

/// <summary>
/// Removes a user's cached answers from every tier on every node: without strategy_id everything tagged with the user
/// (L1 and L2 everywhere, through the backplane) and all their snapshot rows; with strategy_id that strategy's
/// comprehensive data plus the user's resolved (strategy-less) entry, which may be built from it.
/// </summary>
public static class InvalidateUserCache
{
    public sealed record Command(string UserId, long? StrategyId) : IRequest<Response>, IAdminRequest;

    public sealed record Response(string UserId, long? StrategyId, string? RemovedTag, IReadOnlyList<string> RemovedKeys, int SnapshotRowsDeleted);

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.StrategyId).GreaterThan(0);
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache userCache, IFusionCache cache) : IRequestHandler<Command, Response>
    {
        private const string DeleteAllSql = "DELETE FROM comprehensive_user_data_cache WHERE user_id = @UserId";

        private const string DeleteStrategySql = """
            DELETE FROM comprehensive_user_data_cache
            WHERE user_id = @UserId AND (strategy_id = @StrategyId OR strategy_id IS NULL)
            """;

        public async Task<Response> Handle(Command request, CancellationToken cancellationToken)
        {
            // Rows first: a node refilling its cache between the two steps must not find the old snapshot.
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var deleted = await connection.ExecuteAsync(new CommandDefinition(
                request.StrategyId is null ? DeleteAllSql : DeleteStrategySql, request, cancellationToken: cancellationToken));

            if (request.StrategyId is null)
            {
                await userCache.InvalidateAsync(request.UserId, UserChange.Strategy, cancellationToken);
                return new Response(request.UserId, null, UserDataCache.UserTag(request.UserId), [], deleted);
            }

            string[] keys = [Comprehensive.CacheKey(request.UserId, request.StrategyId), Comprehensive.CacheKey(request.UserId, null)];
            foreach (var key in keys)
            {
                await cache.RemoveAsync(key, token: cancellationToken);
            }

            return new Response(request.UserId, request.StrategyId, null, keys, deleted);
        }
    }

    internal static void Map(IEndpointRouteBuilder group) =>
        group.MapDelete("/invalidate/{user_id}", (string user_id, long? strategy_id, IMediator mediator, CancellationToken ct) =>
                mediator.Send(new Command(user_id, strategy_id), ct))
            .WithSummary("Remove a user's cached data from every tier on every node")
            .ProducesValidationProblem();
}
