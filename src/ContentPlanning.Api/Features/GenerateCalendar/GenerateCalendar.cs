using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Carter;
using ContentPlanning.Api.Features.CalendarJobs;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Api.Infrastructure.Telemetry;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GenerateCalendar;

/// <summary>
/// Generates a content calendar from the user's strategy and comprehensive data (read once, through the cache, by the
/// comprehensive-data request) and stores it with one calendar_events row per piece in one transaction. The twelve steps
/// are in GenerateCalendar.Steps.cs, the storing in GenerateCalendar.Store.cs.
/// </summary>
public static partial class GenerateCalendar
{
    public const string FrameworkVersion = "1.0";

    public static readonly string[] CalendarTypes = ["weekly", "monthly", "quarterly", "yearly"];

    public sealed record Command(
        string? UserId, long? StrategyId, string CalendarType, DateOnly? StartDate, string? Timezone, string? BusinessSize,
        IReadOnlyList<string>? Platforms, int? PiecesPerDay, bool? ForceRefresh) : IRequest<Outcome>, IUserScoped, IOwnedResource
    {
        /// <summary>The Idempotency-Key header (not part of the body, so not part of the request hash).</summary>
        [System.Text.Json.Serialization.JsonIgnore]
        public string? IdempotencyKey { get; init; }

        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => StrategyId;
    }

    /// <summary>
    /// The same generation run as a calendar job's attempt, sent only by the job runner (the service itself: the start
    /// request was checked for its caller): the job's observer hears of every step and joins the store.
    /// </summary>
    public sealed record RunForJob(Command Request, IGenerationObserver Observer) : IRequest<Outcome>, IAdminRequest;

    /// <summary>What a generation ended with; the endpoint and the job runner each turn it into their answer.</summary>
    public abstract record Outcome
    {
        /// <summary>A new calendar (201).</summary>
        public sealed record Created(long Id, JsonNode Calendar) : Outcome;

        /// <summary>The calendar stored earlier for this Idempotency-Key and the same request (200).</summary>
        public sealed record Replayed(long Id, JsonNode Calendar) : Outcome;

        /// <summary>The user has no content strategy (or not the one named): 404.</summary>
        public sealed record NoStrategy(string Detail) : Outcome;

        /// <summary>The Idempotency-Key was used with another request: 422.</summary>
        public sealed record KeyReused(string Key) : Outcome;

        /// <summary>The strategy was deleted while the calendar was generated; nothing was stored: 404.</summary>
        public sealed record StrategyDeleted(string Detail) : Outcome;

        /// <summary>A referenced row vanished while the calendar was stored; nothing was stored: 409.</summary>
        public sealed record ReferenceVanished(string Detail) : Outcome;

        /// <summary>The calendar's events would take the user's data past its bound: 413.</summary>
        public sealed record UserDataFull(string Detail) : Outcome;
    }

    public sealed record StepResult(int StepNumber, string StepName, string Phase, string Status, double DurationMs, double QualityScore, bool ValidationPassed, IReadOnlyList<string> Insights);

    public sealed record WeekTheme(int WeekNumber, DateOnly StartDate, string Theme, string Source);

    public sealed record PlatformPlan(string Platform, string ContentType, string PostingTime, int Pieces);

    /// <summary>
    /// One piece. Generated with every field set; read back later (GET /calendars/{id}) it reflects its calendar event,
    /// which its team may have edited: a PUT that leaves out pillar, platform, content type or description clears them.
    /// </summary>
    public sealed record ScheduledPiece(
        long EventId, DateOnly Date, string DayName, int WeekNumber, string WeeklyTheme, string? Pillar, string? Platform, string? ContentType,
        string Title, string? Description, string KeyMessage, string CallToAction, DateTimeOffset PostingTime, IReadOnlyList<string> Keywords,
        long? RecommendationId, string Status);

    public sealed record Calendar(
        long Id, string UserId, long StrategyId, string CalendarType, DateOnly StartDate, DateOnly EndDate, string Timezone,
        string FrameworkVersion, string DataHash, IReadOnlyList<Pillar> ContentPillars, IReadOnlyDictionary<string, int> ContentMix,
        IReadOnlyList<PlatformPlan> PlatformStrategies, IReadOnlyList<WeekTheme> WeeklyThemes, IReadOnlyList<ScheduledPiece> DailySchedule,
        IReadOnlyList<long> ContentRecommendations, IReadOnlyList<StepResult> Steps, double QualityScore, int EventCount, DateTimeOffset GeneratedAt);

    internal const int MaxStartDistanceDays = 2 * 365;

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator(TimeProvider time)
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.StrategyId).GreaterThan(0);
            RuleFor(x => x.CalendarType).Must(t => CalendarTypes.Contains(t)).WithMessage("calendar_type must be weekly, monthly, quarterly or yearly.");
            RuleFor(x => x.Timezone).Must(tz => TimeZoneInfo.TryFindSystemTimeZoneById(tz!, out _))
                .When(x => x.Timezone is not null).WithMessage("timezone must be an IANA time zone name.");
            RuleFor(x => x.BusinessSize).Must(s => s is "startup" or "sme" or "enterprise").When(x => x.BusinessSize is not null)
                .WithMessage("business_size must be startup, sme or enterprise.");
            RuleFor(x => x.PiecesPerDay).InclusiveBetween(1, 5);
            RuleFor(x => x.IdempotencyKey).ValidIdempotencyKey().When(x => x.IdempotencyKey is not null);
            RuleFor(x => x.Platforms).Must(p => p!.Count <= 10 && p.All(s => !string.IsNullOrWhiteSpace(s) && s.Length <= 50))
                .When(x => x.Platforms is not null).WithMessage("platforms: at most 10 non-empty names of up to 50 characters.");
            RuleForEach(x => x.Platforms).Must(p => p is not null && CalendarSteps.KnownPlatforms.Contains(p.Trim().ToLowerInvariant()))
                .When(x => x.Platforms is not null)
                .WithMessage($"platforms: each must be one of {string.Join(", ", CalendarSteps.KnownPlatforms)}.");
            // A calendar is planned for the coming months, not for another decade: today plus or minus two years.
            RuleFor(x => x.StartDate).Must(d => Math.Abs(d!.Value.DayNumber - DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime).DayNumber) <= MaxStartDistanceDays)
                .When(x => x.StartDate is not null).WithMessage("start_date must be within two years of today.");
        }
    }

    internal static readonly Histogram Duration = new();

    internal sealed class Histogram
    {
        public readonly System.Diagnostics.Metrics.Histogram<double> Instrument = ServiceTelemetry.CreateSecondsHistogram(
            "content_planning.calendar.generation.duration", "Server-side time of one calendar generation, by calendar_type.");
    }

    internal sealed class RunForJobValidator : AbstractValidator<RunForJob>
    {
        public RunForJobValidator(IValidator<Command> command) => RuleFor(x => x.Request).SetValidator(command);
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache, IMediator mediator, TimeProvider time, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
        : IRequestHandler<Command, Outcome>, IRequestHandler<RunForJob, Outcome>
    {
        public Task<Outcome> Handle(Command request, CancellationToken cancellationToken) => GenerateAsync(request, observer: null, cancellationToken);

        public Task<Outcome> Handle(RunForJob request, CancellationToken cancellationToken) => GenerateAsync(request.Request, request.Observer, cancellationToken);

        private async Task<Outcome> GenerateAsync(Command request, IGenerationObserver? observer, CancellationToken cancellationToken)
        {
            var options = json.Value.SerializerOptions;
            var requestJson = JsonSerializer.Serialize(request, options);
            var hash = IdempotencyKey.Hash(requestJson);
            // A repeated key answers its stored calendar without generating again (re-checked under the key's lock when storing).
            if (request.IdempotencyKey is { } key)
            {
                await using var lookup = await dataSource.OpenConnectionAsync(cancellationToken);
                if (await FindKeyedAsync(lookup, request.UserId!, key, hash, cancellationToken) is { } earlier)
                {
                    return earlier;
                }
            }

            using var span = ServiceTelemetry.ActivitySource.StartActivity("calendar.generate");
            span?.SetTag("calendar.type", request.CalendarType);
            var watch = Stopwatch.StartNew();

            var comprehensive = await mediator.Send(new GetComprehensiveUserData.GetComprehensiveUserData.Query(request.UserId, request.StrategyId, request.ForceRefresh ?? false), cancellationToken);
            if (comprehensive?.Data.StrategyData is not { } strategyData)
            {
                return new Outcome.NoStrategy($"User '{request.UserId}' has no content strategy.");
            }

            var timezone = request.Timezone ?? "UTC";
            var zone = TimeZoneInfo.FindSystemTimeZoneById(timezone);
            var input = GeneratorInputMapping.From(request, comprehensive.Data, strategyData.Strategy, timezone, NextMonday(time, zone));
            var plan = await RunStepsAsync(input, observer, cancellationToken);

            var end = input.StartDate.AddDays(CalendarSteps.LengthInDays(input.CalendarType) - 1);
            var draft = new Calendar(
                0, request.UserId!, strategyData.Strategy.Id, input.CalendarType, input.StartDate, end, timezone, FrameworkVersion, comprehensive.CacheInfo.DataHash,
                plan.Pillars, plan.Pillars.Select((p, i) => (p.Name, plan.Counts[i])).ToDictionary(x => x.Name, x => x.Item2),
                plan.Platforms.Select((p, i) => new PlatformPlan(p, plan.PlatformPlans[i].ContentType, plan.PlatformPlans[i].Time.ToString("HH:mm"),
                    plan.Pieces.Count(x => x.Platform == p))).ToList(),
                plan.Themes.Select((t, w) => new WeekTheme(w + 1, input.StartDate.AddDays(7 * w), t.Theme, t.FromGap ? "gap_analysis" : "pillar")).ToList(),
                [],
                plan.Pieces.Where(p => p.RecommendationId is not null).Select(p => p.RecommendationId!.Value).ToList(),
                plan.Steps, plan.Quality, plan.Pieces.Count, time.GetUtcNow());
            // Opened only now: a connection held across the comprehensive read above (which takes its own from the same pool)
            // lets concurrent generations exhaust the pool waiting on each other.
            Outcome outcome;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                outcome = await StoreAsync(connection, request, requestJson, hash, draft, plan, observer, options, cancellationToken);
            }

            if (outcome is Outcome.Created)
            {
                // Answers built from calendars (the strategy summary) are evicted; the comprehensive data stays cached.
                await cache.InvalidateCalendarAsync(request.UserId!, cancellationToken);
                Duration.Instrument.Record(watch.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("calendar_type", input.CalendarType));
            }

            return outcome;
        }

        private static DateOnly NextMonday(TimeProvider time, TimeZoneInfo zone)
        {
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
            var ahead = ((int)DayOfWeek.Monday - (int)today.DayOfWeek + 7) % 7;
            return today.AddDays(ahead == 0 ? 7 : ahead);
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapPost("/calendar-generation/generate-calendar", async Task<Results<Created<JsonNode>, Ok<JsonNode>, ProblemHttpResult>> (
                        Command command, [Microsoft.AspNetCore.Mvc.FromHeader(Name = IdempotencyKey.Header)] string? idempotencyKey, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(command with { UserId = user.UserIdOr(command.UserId), IdempotencyKey = idempotencyKey }, ct) switch
                    {
                        Outcome.Created created => TypedResults.Created($"{FeatureRegistration.RoutePrefix}/calendars/{created.Id}", created.Calendar),
                        Outcome.Replayed replayed => TypedResults.Ok(replayed.Calendar),
                        Outcome.NoStrategy none => Problems.NotFound(none.Detail),
                        Outcome.KeyReused reused => IdempotencyKey.Reused(reused.Key),
                        Outcome.StrategyDeleted deleted => Problems.NotFound(deleted.Detail),
                        Outcome.ReferenceVanished vanished => Problems.Conflict(vanished.Detail),
                        Outcome.UserDataFull full => TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "User data limit exceeded", detail: full.Detail),
                        var other => throw new InvalidOperationException($"Unexpected outcome {other}."),
                    })
                .WithTags("Calendars")
                .RequireRateLimiting(Infrastructure.Http.RateLimits.CalendarGeneration)
                .ProducesProblem(StatusCodes.Status429TooManyRequests)
                .WithSummary("Generate a content calendar from the user's strategy and data, stored with its events")
                .Produces<Calendar>(StatusCodes.Status201Created)
                .Produces<Calendar>(StatusCodes.Status200OK)
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict)
                .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
                .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
                .ProducesValidationProblem();
    }
}
