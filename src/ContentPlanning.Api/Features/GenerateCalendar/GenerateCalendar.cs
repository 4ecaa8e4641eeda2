using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Transactions;
using Carter;
using ContentPlanning.Api.Features.GetComprehensiveUserData;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using ContentPlanning.Api.Infrastructure.Http;
using ContentPlanning.Api.Infrastructure.Telemetry;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.GenerateCalendar;

/// <summary>
/// Generates a content calendar from the user's strategy and comprehensive data (read once, through the cache, by the
/// comprehensive-data request) and stores it with one calendar_events row per piece in one transaction.
/// </summary>
public static class GenerateCalendar
{
    public const string FrameworkVersion = "1.0";

    public static readonly string[] CalendarTypes = ["weekly", "monthly", "quarterly"];

    public sealed record Command(
        string? UserId, long? StrategyId, string CalendarType, DateOnly? StartDate, string? Timezone, string? BusinessSize,
        IReadOnlyList<string>? Platforms, int? PiecesPerDay, bool? ForceRefresh) : IRequest<Outcome>, IUserScoped, IOwnedResource
    {
        /// <summary>The Idempotency-Key header (not part of the body, so not part of the request hash).</summary>
        [System.Text.Json.Serialization.JsonIgnore]
        public string? IdempotencyKey { get; init; }

        /// <summary>Set by a caller that runs the generation as a job (the calendar jobs slice); never from the body.</summary>
        [System.Text.Json.Serialization.JsonIgnore]
        public IGenerationObserver? Observer { get; init; }

        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => StrategyId;
    }

    /// <summary>
    /// Watches one generation: told after every step (it may stop the run there by throwing, and nothing is stored) and
    /// inside the transaction that stores the calendar, before it commits (what it writes there commits or rolls back
    /// with the calendar). The transaction is an ambient <see cref="System.Transactions.TransactionScope"/> the connection
    /// is enlisted in, so a library that enlists (Hangfire's PostgreSQL storage) joins it too.
    /// </summary>
    public interface IGenerationObserver
    {
        Task StepCompletedAsync(IReadOnlyList<StepResult> steps, CancellationToken cancellationToken);

        Task StoringAsync(NpgsqlConnection connection, long calendarId, CancellationToken cancellationToken);
    }

    /// <summary>A new calendar (201), a stored one answered again for a repeated Idempotency-Key (200), or a problem.</summary>
    public sealed record Outcome(long Id, JsonNode? Calendar, bool Replayed, ProblemHttpResult? Problem);

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
            RuleFor(x => x.CalendarType).Must(t => CalendarTypes.Contains(t)).WithMessage("calendar_type must be weekly, monthly or quarterly.");
            RuleFor(x => x.Timezone).Must(tz => TimeZoneInfo.TryFindSystemTimeZoneById(tz!, out _))
                .When(x => x.Timezone is not null).WithMessage("timezone must be an IANA time zone name.");
            RuleFor(x => x.BusinessSize).Must(s => s is "startup" or "sme" or "enterprise").When(x => x.BusinessSize is not null)
                .WithMessage("business_size must be startup, sme or enterprise.");
            RuleFor(x => x.PiecesPerDay).InclusiveBetween(1, 5);
            RuleFor(x => x.IdempotencyKey).Length(1, 255).Must(k => k!.All(c => c is >= '!' and <= '~'))
                .When(x => x.IdempotencyKey is not null).OverridePropertyName("Idempotency-Key")
                .WithMessage("Idempotency-Key must be 1..255 printable characters.");
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
        public readonly System.Diagnostics.Metrics.Histogram<double> Instrument = ServiceTelemetry.Meter.CreateHistogram<double>(
            "content_planning.calendar.generation.duration", "s", "Server-side time of one calendar generation, by calendar_type.");
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache, IMediator mediator, TimeProvider time, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
        : IRequestHandler<Command, Outcome>
    {
        // Same-key requests of one user queue on this session lock until the first one has committed, so a key generates
        // once. Keys are per user: another user's identical key is another key. A session lock (released in finally, or
        // by PostgreSQL when the connection dies) because the generation between lookup and insert is not in a transaction.
        private const string KeyLockSql = """
            SELECT pg_advisory_lock(hashtextextended('generate-calendar:' || @UserId || ':' || @Key, 0));
            SELECT id, request_hash, result::text FROM generated_calendars WHERE user_id = @UserId AND idempotency_key = @Key;
            """;

        private const string KeyUnlockSql = "SELECT pg_advisory_unlock(hashtextextended('generate-calendar:' || @UserId || ':' || @Key, 0))";

        // Nothing is inserted when the strategy was deleted meanwhile (404); once the row is in, its foreign key holds the
        // strategy until commit. A delete that commits between this statement's snapshot and its key check is a 409.
        private const string InsertCalendarSql = """
            INSERT INTO generated_calendars (user_id, strategy_id, calendar_type, start_date, end_date, request, idempotency_key, request_hash)
            SELECT @UserId, @StrategyId, @CalendarType, @StartDate, @EndDate, @Request::jsonb, @Key, @Hash
            WHERE EXISTS (SELECT 1 FROM content_strategies WHERE id = @StrategyId)
            RETURNING id
            """;

        // All events in one statement, whatever their number; piece_index maps the returned ids back to the pieces.
        private const string InsertEventsSql = """
            INSERT INTO calendar_events (strategy_id, calendar_id, title, description, content_type, platform, scheduled_at, status, pillar, details)
            SELECT @StrategyId, @CalendarId, e.title, e.description, e.content_type, e.platform, e.scheduled_at, 'scheduled', e.pillar, e.details
            FROM jsonb_to_recordset(@Events::jsonb) AS e(title text, description text, content_type text, platform text,
                                                          scheduled_at timestamptz, pillar text, details jsonb)
            RETURNING id, (details ->> 'piece_index')::int AS piece_index
            """;

        private const string StoreResultSql = "UPDATE generated_calendars SET result = @Result::jsonb WHERE id = @Id";

        public async Task<Outcome> Handle(Command request, CancellationToken cancellationToken)
        {
            var options = json.Value.SerializerOptions;
            var requestJson = JsonSerializer.Serialize(request, options);
            var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requestJson)));
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            if (request.IdempotencyKey is not { } key)
            {
                return await GenerateAsync(connection, request, requestJson, hash, cancellationToken);
            }

            var lockArgs = new { Key = key, request.UserId };
            await using (var grid = await connection.QueryMultipleAsync(new CommandDefinition(KeyLockSql, lockArgs, cancellationToken: cancellationToken)))
            {
                await grid.ReadAsync<object>();
                var previous = await grid.ReadSingleOrDefaultAsync<(long Id, string? Hash, string? Result)?>();
                if (previous is { } found)
                {
                    await connection.ExecuteAsync(KeyUnlockSql, lockArgs);
                    return found.Hash == hash
                        ? new Outcome(found.Id, JsonNode.Parse(found.Result!), Replayed: true, null)
                        : new Outcome(0, null, false, TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity, title: "Idempotency-Key reused",
                            detail: $"Idempotency-Key '{key}' was used with a different request body."));
                }
            }

            try
            {
                return await GenerateAsync(connection, request, requestJson, hash, cancellationToken);
            }
            finally
            {
                await connection.ExecuteAsync(KeyUnlockSql, lockArgs);
            }
        }

        private async Task<Outcome> GenerateAsync(NpgsqlConnection connection, Command request, string requestJson, string hash, CancellationToken cancellationToken)
        {
            var options = json.Value.SerializerOptions;

            using var span = ServiceTelemetry.ActivitySource.StartActivity("calendar.generate");
            span?.SetTag("calendar.type", request.CalendarType);
            var watch = Stopwatch.StartNew();

            var comprehensive = await mediator.Send(new GetComprehensiveUserData.GetComprehensiveUserData.Query(request.UserId, request.StrategyId, request.ForceRefresh ?? false), cancellationToken);
            if (comprehensive?.Data.StrategyData is not { } strategyData)
            {
                return new Outcome(0, null, false, Problems.NotFound($"User '{request.UserId}' has no content strategy."));
            }

            var timezone = request.Timezone ?? "UTC";
            var zone = TimeZoneInfo.FindSystemTimeZoneById(timezone);
            var input = GeneratorInputMapping.From(request, comprehensive.Data, strategyData.Strategy, timezone, NextMonday(time, zone));
            var steps = new List<StepResult>();
            var observer = new StepObserver(request.Observer, steps, cancellationToken);
            var pillars = await observer.After(Step(steps, 1, "Content Strategy Analysis", "foundation", () => CalendarSteps.AnalyseStrategy(input),
                p => new StepScore(input.StrategyPillars.Count > 0 ? 1 : 0.5, [$"{p.Count} pillars: {string.Join(", ", p.Select(x => x.Name))}."])));
            var weeks = CalendarSteps.LengthInDays(input.CalendarType) / 7;
            var sources = await observer.After(Step(steps, 2, "Gap Analysis and Opportunity Identification", "foundation", () => CalendarSteps.IdentifyOpportunities(input, pillars),
                s => new StepScore(Math.Min(1, s.Count(x => x.FromGap) / (double)weeks), [$"{s.Count(x => x.FromGap)} gap themes for {weeks} weeks."])));
            var platforms = await observer.After(Step(steps, 3, "Audience and Platform Strategy", "foundation", () => CalendarSteps.ChoosePlatforms(input),
                p => new StepScore(input.RequestPlatforms.Count + input.ProfilePlatforms.Count > 0 ? 1 : 0.5, [$"Platforms: {string.Join(", ", p)}."])));
            var (days, perDay) = await observer.After(Step(steps, 4, "Calendar Framework and Timeline", "structure", () => CalendarSteps.BuildFramework(input),
                f => new StepScore(f.Days.Count > 0 ? 1 : 0, [$"{f.Days.Count} posting days, {f.PiecesPerDay} pieces per day."])));
            var total = days.Count * perDay;
            var counts = await observer.After(Step(steps, 5, "Content Pillar Distribution", "structure", () => CalendarSteps.DistributePillars(pillars, total),
                c => new StepScore(total == 0 ? 0 : c.Count(x => x > 0) / (double)Math.Min(total, c.Count), [string.Join(", ", pillars.Select((p, i) => $"{p.Name}: {c[i]}"))])));
            var platformPlans = await observer.After(Step(steps, 6, "Platform-Specific Strategy", "structure", () => platforms.Select(p => CalendarSteps.PlatformStrategy(input, p)).ToList(),
                p => new StepScore(p.Count(x => x.ContentType != "post") / (double)Math.Max(1, p.Count), [string.Join(", ", platforms.Select((pl, i) => $"{pl}: {p[i].ContentType}"))])));
            var themes = await observer.After(Step(steps, 7, "Weekly Theme Development", "content", () => CalendarSteps.WeeklyThemes(sources, weeks),
                t => new StepScore(t.Select(x => x.Theme).Distinct().Count() / (double)t.Count, [string.Join(" | ", t.Select(x => x.Theme))])));
            var planned = await observer.After(Step(steps, 8, "Daily Content Planning", "content", () => CalendarSteps.PlanDaily(input, days, perDay, pillars, counts, platforms, themes),
                p => new StepScore(p.Select(x => x.Title).Distinct().Count() / (double)Math.Max(1, p.Count), [$"{p.Count} pieces planned."])));
            var pieces = await observer.After(Step(steps, 9, "Content Recommendations", "content", () => CalendarSteps.AttachRecommendations(planned, input.Recommendations),
                p => new StepScore(input.Recommendations.Count == 0 ? 0 : p.Count(x => x.RecommendationId is not null) / (double)input.Recommendations.Count,
                    [$"{p.Count(x => x.RecommendationId is not null)} of {input.Recommendations.Count} pending recommendations attached."])));
            var performance = await observer.After(Step(steps, 10, "Performance Optimization", "optimization", () => CalendarSteps.MeasurePerformance(pieces, pillars, platforms), s => s));
            var alignment = await observer.After(Step(steps, 11, "Strategy Alignment Validation", "optimization", () => CalendarSteps.ValidateAlignment(pieces, input.Goals), s => s));
            var quality = await observer.After(Step(steps, 12, "Final Calendar Assembly", "optimization", () => Math.Round(steps.Average(s => s.QualityScore), 4),
                q => new StepScore(q, [$"Overall quality {q:0.00} over {steps.Count} steps."])));

            var end = input.StartDate.AddDays(CalendarSteps.LengthInDays(input.CalendarType) - 1);
            var strategyId = strategyData.Strategy.Id;
            var eventsJson = JsonSerializer.Serialize(pieces.Select(p => new
            {
                p.Title,
                p.Description,
                p.ContentType,
                p.Platform,
                ScheduledAt = p.PostingTime,
                p.Pillar,
                Details = new { PieceIndex = p.Index, p.WeeklyTheme, p.WeekNumber, p.KeyMessage, p.CallToAction, p.Keywords, p.RecommendationId },
            }), options);

            // One transaction stores everything. Ambient (not BeginTransaction) so that an observer's library can enlist in
            // it; opened only now, so the comprehensive-data read and the observer's progress writes above never join it.
            using var scope = AmbientTransaction.Begin();
            connection.EnlistTransaction(Transaction.Current);
            Calendar calendar;
            try
            {
                if (await connection.ExecuteScalarAsync<long?>(new CommandDefinition(InsertCalendarSql, new
                {
                    request.UserId,
                    StrategyId = strategyId,
                    input.CalendarType,
                    input.StartDate,
                    EndDate = end,
                    Request = requestJson,
                    Key = request.IdempotencyKey,
                    Hash = hash,
                }, cancellationToken: cancellationToken)) is not { } id)
                {
                    return new Outcome(0, null, false, Problems.NotFound($"Content strategy {strategyId} was deleted while its calendar was generated; nothing was stored."));
                }

                var eventIds = (await connection.QueryAsync<(long Id, int PieceIndex)>(new CommandDefinition(InsertEventsSql,
                    new { StrategyId = strategyId, CalendarId = id, Events = eventsJson }, cancellationToken: cancellationToken)))
                    .ToDictionary(x => x.PieceIndex, x => x.Id);

                calendar = new Calendar(
                    id, request.UserId!, strategyId, input.CalendarType, input.StartDate, end, timezone, FrameworkVersion, comprehensive.CacheInfo.DataHash,
                    pillars, pillars.Select((p, i) => (p.Name, counts[i])).ToDictionary(x => x.Name, x => x.Item2),
                    platforms.Select((p, i) => new PlatformPlan(p, platformPlans[i].ContentType, platformPlans[i].Time.ToString("HH:mm"), pieces.Count(x => x.Platform == p))).ToList(),
                    themes.Select((t, w) => new WeekTheme(w + 1, input.StartDate.AddDays(7 * w), t.Theme, t.FromGap ? "gap_analysis" : "pillar")).ToList(),
                    pieces.Select(p => new ScheduledPiece(eventIds[p.Index], p.Date, p.DayName, p.WeekNumber, p.WeeklyTheme, p.Pillar, p.Platform, p.ContentType,
                        p.Title, p.Description, p.KeyMessage, p.CallToAction, p.PostingTime, p.Keywords, p.RecommendationId, "scheduled")).ToList(),
                    pieces.Where(p => p.RecommendationId is not null).Select(p => p.RecommendationId!.Value).ToList(),
                    steps, quality, pieces.Count, time.GetUtcNow());
                await connection.ExecuteAsync(new CommandDefinition(StoreResultSql, new { Id = id, Result = JsonSerializer.Serialize(calendar, options) },
                    cancellationToken: cancellationToken));
                if (request.Observer is { } watcher)
                {
                    await watcher.StoringAsync(connection, id, cancellationToken);
                }

                scope.Complete();
                scope.Dispose();
            }
            catch (PostgresException ex) when (References.IsForeignKeyViolation(ex))
            {
                return new Outcome(0, null, false, References.VanishedReference());
            }
            catch (PostgresException ex) when (ex.SqlState == "CP413")
            {
                // The user's data is at its bound (migration 0012): another attempt would be refused the same way.
                return new Outcome(0, null, false, TypedResults.Problem(statusCode: StatusCodes.Status413PayloadTooLarge, title: "User data limit exceeded",
                    detail: $"This calendar's events would take the user's stored data past {ex.Hint} bytes (Database__MaxUserSourceBytes); delete or shrink some first."));
            }

            // Answers built from calendars (the strategy summary) are evicted; the comprehensive data stays cached.
            await cache.InvalidateCalendarAsync(request.UserId!, cancellationToken);

            Duration.Instrument.Record(watch.Elapsed.TotalSeconds, new KeyValuePair<string, object?>("calendar_type", input.CalendarType));
            return new Outcome(calendar.Id, JsonSerializer.SerializeToNode(calendar, options), Replayed: false, null);
        }

        /// <summary>Tells the observer (if any) after each step; without one a step costs no await.</summary>
        private sealed class StepObserver(IGenerationObserver? observer, List<StepResult> steps, CancellationToken cancellationToken)
        {
            public async ValueTask<T> After<T>(T value)
            {
                if (observer is not null)
                {
                    await observer.StepCompletedAsync(steps, cancellationToken);
                }

                return value;
            }
        }

        private static DateOnly NextMonday(TimeProvider time, TimeZoneInfo zone)
        {
            var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);
            var ahead = ((int)DayOfWeek.Monday - (int)today.DayOfWeek + 7) % 7;
            return today.AddDays(ahead == 0 ? 7 : ahead);
        }

        // Runs one step in its own child span and records its duration and score.
        private static T Step<T>(List<StepResult> steps, int number, string name, string phase, Func<T> run, Func<T, StepScore> score)
        {
            using var activity = ServiceTelemetry.ActivitySource.StartActivity($"calendar.step.{number:00} {name}");
            var watch = Stopwatch.StartNew();
            var value = run();
            var measured = score(value);
            steps.Add(new StepResult(number, name, phase, "completed", Math.Round(watch.Elapsed.TotalMilliseconds, 3), measured.QualityScore,
                measured.QualityScore >= CalendarSteps.PassThreshold, measured.Insights));
            activity?.SetTag("calendar.step.quality_score", measured.QualityScore);
            activity?.SetTag("calendar.step.items", value switch
            {
                System.Collections.ICollection items => items.Count,
                System.Runtime.CompilerServices.ITuple { Length: > 0 } tuple when tuple[0] is System.Collections.ICollection first => first.Count,
                _ => 1,
            });
            return value;
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapPost("/calendar-generation/generate-calendar", async Task<Results<Created<JsonNode>, Ok<JsonNode>, ProblemHttpResult>> (
                        Command command, [Microsoft.AspNetCore.Mvc.FromHeader(Name = "Idempotency-Key")] string? idempotencyKey, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(command with { IdempotencyKey = idempotencyKey }, ct) switch
                    {
                        { Problem: { } problem } => problem,
                        { Replayed: true } replay => TypedResults.Ok(replay.Calendar!),
                        var created => TypedResults.Created($"{FeatureRegistration.RoutePrefix}/calendars/{created.Id}", created.Calendar!),
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
