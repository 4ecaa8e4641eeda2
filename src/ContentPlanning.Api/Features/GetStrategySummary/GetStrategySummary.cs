using Carter;
using ContentPlanning.Api.Features.CacheCoherence;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Caching;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GetStrategySummary;

/// <summary>
/// Everything a strategy dashboard renders, in one answer: the strategy, its activation, its calendar events by status and the
/// next five scheduled, its recommendations by status and priority, its analytics aggregates and its latest generated
/// calendar. Read in ONE batched command and cached per strategy, tagged with the owner's user tag (every source write
/// evicts it) and the owner's calendar tag (event and calendar writes evict it without touching the comprehensive data).
/// </summary>
public static class GetStrategySummary
{
    public sealed record Query(long Id, bool ForceRefresh) : IRequest<Response?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => Id;
    }

    public sealed record Response(
        StrategyPart Strategy,
        ActivationPart? Activation,
        EventsPart CalendarEvents,
        RecommendationsPart Recommendations,
        AnalyticsPart Analytics,
        CalendarPart? LatestCalendar,
        CacheInfo CacheInfo);

    public sealed record StrategyPart(long Id, string Name, string UserId, float CompletionPercentage);

    public sealed record ActivationPart(string Status, DateTimeOffset? Since, float? PerformanceScore);

    public sealed record EventsPart(int Total, IReadOnlyDictionary<string, int> ByStatus, IReadOnlyList<UpcomingEvent> NextScheduled);

    public sealed record UpcomingEvent(long Id, string Title, DateTimeOffset ScheduledAt, string? Platform, string? ContentType, string? Pillar, long? CalendarId);

    public sealed record RecommendationsPart(int Total, IReadOnlyDictionary<string, int> ByStatus, IReadOnlyDictionary<string, int> ByPriority);

    public sealed record AnalyticsPart(int Records, double? AveragePerformanceScore, IReadOnlyDictionary<string, PlatformTotals> Platforms);

    public sealed record PlatformTotals(int Records, IReadOnlyDictionary<string, double> Metrics);

    public sealed record CalendarPart(long Id, string CalendarType, DateOnly StartDate, DateOnly EndDate, double? QualityScore, DateTimeOffset CreatedAt);

    public const int UpcomingCount = 5;

    public static string CacheKey(long strategyId) => "strategy-summary:" + strategyId;

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(x => x.Id).GreaterThan(0);
    }

    /// <summary>The cached part: everything but <c>cache_info</c>.</summary>
    internal sealed record Summary(
        StrategyPart Strategy, ActivationPart? Activation, EventsPart CalendarEvents, RecommendationsPart Recommendations,
        AnalyticsPart Analytics, CalendarPart? LatestCalendar);

    internal sealed class Handler(NpgsqlDataSource dataSource, CachedRead cache, CoherenceGate coherence, TimeProvider time) : IRequestHandler<Query, Response?>
    {
        public async Task<Response?> Handle(Query request, CancellationToken cancellationToken)
        {
            var vouching = coherence.Enter();
            var answer = await cache.ReadAsync(
                CacheKey(request.Id),
                (dataSource, request.Id),
                static (state, ct) => SummaryQuery.LoadAsync(state.dataSource, state.Id, ct),
                request.ForceRefresh,
                // The owner is known only once the row is read: its user tag (every source write evicts it) and its
                // calendar tag (event and calendar writes evict it without touching the comprehensive data).
                tagsOf: static summary => [UserDataCache.UserTag(summary.Strategy.UserId), UserDataCache.CalendarTag(summary.Strategy.UserId)],
                cancellationToken: cancellationToken);

            if (answer.Value is not { } s)
            {
                return null;
            }

            // Summaries carry the owner's user tag, which the change listener evicts: the same coherence rule as the other reads.
            var info = CacheInfo.From(answer, request.ForceRefresh, "database", time);
            return new Response(s.Strategy, s.Activation, s.CalendarEvents, s.Recommendations, s.Analytics, s.LatestCalendar,
                info with { IsStale = coherence.IsStale(info.IsCached, info.IsStale, vouching) });
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/strategies/{id:long}/summary", async Task<Results<Ok<Response>, ProblemHttpResult>> (
                        long id, bool? force_refresh, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id, force_refresh ?? false), ct) is { } response
                        ? TypedResults.Ok(response)
                        : Problems.StrategyNotFound(id))
                .WithTags("Strategies")
                .WithSummary("A strategy's dashboard: activation, events, recommendations, analytics and latest calendar, through the tiered cache")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesValidationProblem();
    }
}
