using Carter;
using ContentPlanning.Api.Features.CacheCoherence;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Http;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Caching;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// The expensive read the cache exists for. Tiers, in order: L1 memory, L2 Redis (both through the tiered cache,
/// tagged with the user), then inside the cache factory the PostgreSQL snapshot row, then assembly from the sources.
/// </summary>
public static class GetComprehensiveUserData
{
    public sealed record Query(string? UserId, long? StrategyId, bool ForceRefresh) : IRequest<Response?>, IUserScoped, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => StrategyId;

        /// <summary>Write L2 and announce on the backplane before answering (a refresh after a change, off the request path).</summary>
        internal bool AwaitDistribution { get; init; }
    }

    public sealed record Response(string Status, ComprehensiveData Data, ResponseCacheInfo CacheInfo, string Message);

    /// <summary>The shared <c>cache_info</c> plus this answer's extras: the data's hash and when it was assembled.</summary>
    public sealed record ResponseCacheInfo(
        string Source, bool IsCached, bool IsStale, bool ForceRefresh, DateTimeOffset? CachedAt, DateTimeOffset Timestamp,
        string DataHash, DateTimeOffset GeneratedAt)
        : CacheInfo(Source, IsCached, IsStale, ForceRefresh, CachedAt, Timestamp);

    public static string CacheKey(string userId, long? strategyId) =>
        strategyId is null ? "comprehensive:" + userId : $"comprehensive:{userId}:{strategyId}";

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.StrategyId).GreaterThan(0);
        }
    }

    internal sealed class Handler(
        NpgsqlDataSource dataSource, SnapshotStore snapshots, CachedRead cache, IOptions<ComprehensiveDataOptions> options, CoherenceGate coherence,
        TimeProvider time)
        : IRequestHandler<Query, Response?>
    {
        public async Task<Response?> Handle(Query request, CancellationToken cancellationToken)
        {
            var vouching = coherence.Enter();
            var answer = await cache.ReadAsync(
                CacheKey(request.UserId!, request.StrategyId),
                (Handler: this, Request: request),
                static (state, ct) => state.Handler.LoadAsync(state.Request, ct),
                request.ForceRefresh,
                request.AwaitDistribution ? CachedRead.AwaitingDistribution(options.Value.EntryOptions(cache.DefaultEntryOptions)) : options.Value.EntryOptions(cache.DefaultEntryOptions),
                UserDataCache.UserTags(request.UserId!),
                cancellationToken: cancellationToken);

            if (answer.Value is not { } value)
            {
                return null;
            }

            // The snapshot tier is a cache tier too: only an answer assembled from the sources is a miss.
            var source = CacheInfo.SourceName(answer, value.Origin);
            var hit = source != "computed";
            return new Response(
                "success",
                value.Data,
                new ResponseCacheInfo(source, hit, coherence.IsStale(hit, answer.IsStale, vouching), request.ForceRefresh, answer.CachedAt, time.GetUtcNow(), value.DataHash, value.GeneratedAt),
                $"Comprehensive user data retrieved successfully (cache: {(hit ? "HIT" : "MISS")})");
        }

        /// <summary>
        /// The factory: one round trip reads the snapshot row if it serves (not on a forced refresh), else every source
        /// section; a second writes the new snapshot row.
        /// </summary>
        private async Task<ComprehensiveSnapshot?> LoadAsync(Query request, CancellationToken cancellationToken)
        {
            var userId = request.UserId!;
            var now = time.GetUtcNow();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var read = await ComprehensiveDataAssembler.ReadAsync(connection, userId, request.StrategyId, useSnapshot: !request.ForceRefresh, time, cancellationToken);
            if (read.Snapshot is { } row)
            {
                if (snapshots.Open(userId, request.StrategyId, read.DataHash, row, now) is { } snapshot)
                {
                    return snapshot;
                }

                read = await ComprehensiveDataAssembler.ReadAsync(connection, userId, request.StrategyId, useSnapshot: false, time, cancellationToken);
            }

            if (read.Data is null)
            {
                return null;
            }

            var computed = new ComprehensiveSnapshot(read.Data, read.DataHash, now, "computed");
            try
            {
                await SnapshotStore.WriteAsync(connection, userId, request.StrategyId, computed, options.Value.SnapshotDuration, cancellationToken);
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.ForeignKeyViolation)
            {
                // The strategy was deleted after the read's snapshot was taken: it is gone now, so is the answer.
                return null;
            }

            return computed;
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/calendar-generation/comprehensive-user-data", async Task<Results<CachedJsonResult<Response>, ProblemHttpResult>> (
                    string? user_id, long? strategy_id, bool? force_refresh, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(user.UserIdOr(user_id), strategy_id, force_refresh ?? false), ct) is { } response
                        ? new CachedJsonResult<Response>(response, ComprehensiveJson.Write)
                        : Problems.NotFound(strategy_id is null
                            ? $"User '{user_id}' has neither an onboarding profile nor a content strategy."
                            : $"User '{user_id}' has no content strategy {strategy_id}."))
                .WithTags("Calendar generation")
                .WithSummary("Everything planning needs about a user, through L1, L2 and the snapshot tier")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesValidationProblem();
    }

    internal sealed class Services : IServiceModule
    {
        public void AddServices(IServiceCollection services, IConfiguration configuration)
        {
            services.AddOptions<ComprehensiveDataOptions>()
                .Bind(configuration.GetSection(ComprehensiveDataOptions.Section))
                .ValidateDataAnnotations()
                .ValidateOnStart();
            services.AddSingleton<SnapshotStore>();
            services.AddSingleton<SnapshotAccessRecorder>();
            services.AddHostedService(sp => sp.GetRequiredService<SnapshotAccessRecorder>());
        }
    }
}
