using Carter;
using ContentPlanning.Api.Features.CacheCoherence;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Caching;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GetActiveStrategy;

/// <summary>
/// The strategy every planning workflow works from, resolved by <see cref="StrategyResolution"/>. Served through the tiered cache
/// (L1 5 min, L2 1 h, fail-safe 2 h), tagged with the user's strategy tag: writes of strategies and activations evict it on
/// every node, a profile or other source write does not.
/// </summary>
public static class GetActiveStrategy
{
    public sealed record Query(string UserId, bool ForceRefresh) : IRequest<Response?>, IUserScoped
    {
        /// <summary>Write L2 and announce on the backplane before answering (a refresh after a change, off the request path).</summary>
        internal bool AwaitDistribution { get; init; }
    }

    public sealed record Response(Strategy Strategy, string Resolution, Activation? Activation, CacheInfo CacheInfo);

    public static string CacheKey(string userId) => "active-strategy:" + userId;

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(x => x.UserId).ValidUserId();
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, CachedRead cache, CoherenceGate coherence, TimeProvider time) : IRequestHandler<Query, Response?>
    {
        public async Task<Response?> Handle(Query request, CancellationToken cancellationToken)
        {
            // The entry options are the Cache__* defaults (appsettings: 5 min L1, 1 h L2, 2 s soft timeout).
            var vouching = coherence.Enter();
            var answer = await cache.ReadAsync(
                CacheKey(request.UserId),
                (dataSource, request.UserId),
                static (state, ct) => LoadAsync(state.dataSource, state.UserId, ct),
                request.ForceRefresh,
                request.AwaitDistribution ? CachedRead.AwaitingDistribution(cache.DefaultEntryOptions) : null,
                UserDataCache.StrategyTags(request.UserId),
                cancellationToken: cancellationToken);

            if (answer.Value is not { } value)
            {
                return null;
            }

            var info = CacheInfo.From(answer, request.ForceRefresh, "database", time);
            return new Response(value.Strategy, value.Resolution, value.Activation,
                info with { IsStale = coherence.IsStale(info.IsCached, info.IsStale, vouching) });
        }

        private static async Task<StrategyResolution.Resolved?> LoadAsync(NpgsqlDataSource dataSource, string userId, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await StrategyResolution.QueryAsync(connection, userId, strategyId: null, cancellationToken);
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/users/{user_id}/active-strategy", async Task<Results<ActiveStrategyJsonResult, ProblemHttpResult>> (
                        string user_id, bool? force_refresh, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(user_id, force_refresh ?? false), ct) is { } response
                        ? new ActiveStrategyJsonResult(response)
                        : Problems.NotFound($"User '{user_id}' has no content strategy."))
                .WithTags("Strategies")
                .WithSummary("The user's active strategy, with fallbacks, through the tiered cache")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesValidationProblem();
    }
}
