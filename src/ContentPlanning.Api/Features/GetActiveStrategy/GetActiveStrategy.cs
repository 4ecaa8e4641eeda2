using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using ContentPlanning.Caching;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GetActiveStrategy;

/// <summary>
/// The strategy every planning workflow works from: the active one; else the most recent with an AI analysis; else the
/// most recent of any kind ("most recent" is by created_at, ties to the higher id). Served through the tiered cache
/// (L1 5 min, L2 1 h, fail-safe 2 h), tagged with the user so every write of that user invalidates it on every node.
/// </summary>
public static class GetActiveStrategy
{
    public sealed record Query(string UserId, bool ForceRefresh) : IRequest<Response?>;

    public sealed record Response(Strategy Strategy, string Resolution, Activation? Activation, CacheInfo CacheInfo);

    /// <summary>What is cached: the answer without its cache_info. Null when the user has no strategy at all.</summary>
    public sealed record Resolved(Strategy Strategy, string Resolution, Activation? Activation);

    public static string CacheKey(string userId) => "active-strategy:" + userId;

    internal static readonly CacheEntryOptions CacheOptions = new()
    {
        Duration = TimeSpan.FromMinutes(5),
        DistributedCacheDuration = TimeSpan.FromHours(1),
        FailSafeMaxDuration = TimeSpan.FromHours(2),
    };

    // A user without strategies is remembered briefly only; creating one invalidates it anyway.
    private static readonly TimeSpan NotFoundDuration = TimeSpan.FromSeconds(30);

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(x => x.UserId).ValidUserId();
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache, TimeProvider time) : IRequestHandler<Query, Response?>
    {
        private static readonly string Sql = $"""
            SELECT {Strategy.SelectColumns},
                   CASE WHEN a.status = 'active' THEN 'active'
                        WHEN s.comprehensive_ai_analysis IS NOT NULL AND jsonb_typeof(s.comprehensive_ai_analysis) <> 'null' THEN 'fallback_most_recent_analyzed'
                        ELSE 'fallback_most_recent' END AS resolution,
                   a.status, a.activation_date, a.performance_score
            FROM content_strategies s
            LEFT JOIN strategy_activation_status a ON a.strategy_id = s.id
            WHERE s.user_id = @userId
            ORDER BY (a.status = 'active') IS TRUE DESC,
                     (s.comprehensive_ai_analysis IS NOT NULL AND jsonb_typeof(s.comprehensive_ai_analysis) <> 'null') DESC,
                     s.created_at DESC, s.id DESC
            LIMIT 1
            """;

        public async Task<Response?> Handle(Query request, CancellationToken cancellationToken)
        {
            var options = request.ForceRefresh ? CacheOptions with { SkipCacheRead = true } : CacheOptions;
            var result = await cache.Cache.GetOrSetAsync<(NpgsqlDataSource, string), Resolved?>(
                CacheKey(request.UserId),
                (dataSource, request.UserId),
                static async (context, state, ct) =>
                {
                    var resolved = await LoadAsync(state.Item1, state.Item2, ct);
                    if (resolved is null)
                    {
                        context.Options = context.Options with { Duration = NotFoundDuration, DistributedCacheDuration = NotFoundDuration };
                    }

                    return resolved;
                },
                options,
                UserDataCache.UserTags(request.UserId),
                cancellationToken);

            return result.Value is { } value
                ? new Response(value.Strategy, value.Resolution, value.Activation, CacheInfo.From(result, request.ForceRefresh, "database", time))
                : null;
        }

        internal static async Task<Resolved?> LoadAsync(NpgsqlDataSource dataSource, string userId, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = await connection.QueryAsync<Strategy, ResolutionRow, Resolved>(
                new CommandDefinition(Sql, new { userId }, cancellationToken: cancellationToken),
                static (strategy, row) => new Resolved(
                    strategy, row.Resolution, row.Status is null ? null : new Activation(row.Status, row.ActivationDate, row.PerformanceScore)),
                splitOn: "resolution");
            return rows.SingleOrDefault();
        }

        private sealed class ResolutionRow
        {
            public string Resolution { get; set; } = "";
            public string? Status { get; set; }
            public DateTimeOffset? ActivationDate { get; set; }
            public float? PerformanceScore { get; set; }
        }
    }

    internal sealed class Endpoint : IEndpointModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/users/{user_id}/active-strategy", async Task<Results<Ok<Response>, ProblemHttpResult>> (
                        string user_id, bool? force_refresh, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(user_id, force_refresh ?? false), ct) is { } response
                        ? TypedResults.Ok(response)
                        : Problems.NotFound($"User '{user_id}' has no content strategy."))
                .WithTags("Strategies")
                .WithSummary("The user's active strategy, with fallbacks, through the tiered cache")
                .ProducesValidationProblem();
    }
}
