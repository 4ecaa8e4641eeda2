using System.Diagnostics;
using ContentPlanning.Api.Features.CalendarJobs;
using ContentPlanning.Api.Infrastructure.Telemetry;

namespace ContentPlanning.Api.Features.GenerateCalendar;

public static partial class GenerateCalendar
{
    /// <summary>What the twelve steps decided, ready to be stored.</summary>
    internal sealed record Plan(
        GeneratorInput Input, IReadOnlyList<Pillar> Pillars, IReadOnlyList<int> Counts, IReadOnlyList<string> Platforms,
        IReadOnlyList<(string ContentType, TimeOnly Time)> PlatformPlans, IReadOnlyList<(string Theme, bool FromGap)> Themes,
        IReadOnlyList<Piece> Pieces, IReadOnlyList<StepResult> Steps, double Quality);

    /// <summary>
    /// The twelve steps in order, each a pure function of <see cref="CalendarSteps"/> scored by what it produced; a job's
    /// observer hears of each one as it completes.
    /// </summary>
    internal static async Task<Plan> RunStepsAsync(GeneratorInput input, IGenerationObserver? observer, CancellationToken cancellationToken)
    {
        var steps = new List<StepResult>();
        var after = new StepObserver(observer, steps, cancellationToken);

        var pillars = await after.Step(Step(steps, 1, "Content Strategy Analysis", "foundation",
            () => CalendarSteps.AnalyseStrategy(input),
            p => new StepScore(input.StrategyPillars.Count > 0 ? 1 : 0.5, [$"{p.Count} pillars: {string.Join(", ", p.Select(x => x.Name))}."])));

        var weeks = CalendarSteps.LengthInDays(input.CalendarType) / 7;
        var sources = await after.Step(Step(steps, 2, "Gap Analysis and Opportunity Identification", "foundation",
            () => CalendarSteps.IdentifyOpportunities(input, pillars),
            s => new StepScore(Math.Min(1, s.Count(x => x.FromGap) / (double)weeks), [$"{s.Count(x => x.FromGap)} gap themes for {weeks} weeks."])));

        var platforms = await after.Step(Step(steps, 3, "Audience and Platform Strategy", "foundation",
            () => CalendarSteps.ChoosePlatforms(input),
            p => new StepScore(input.RequestPlatforms.Count + input.ProfilePlatforms.Count > 0 ? 1 : 0.5, [$"Platforms: {string.Join(", ", p)}."])));

        var (days, perDay) = await after.Step(Step(steps, 4, "Calendar Framework and Timeline", "structure",
            () => CalendarSteps.BuildFramework(input),
            f => new StepScore(f.Days.Count > 0 ? 1 : 0, [$"{f.Days.Count} posting days, {f.PiecesPerDay} pieces per day."])));

        var total = days.Count * perDay;
        var counts = await after.Step(Step(steps, 5, "Content Pillar Distribution", "structure",
            () => CalendarSteps.DistributePillars(pillars, total),
            c => new StepScore(total == 0 ? 0 : c.Count(x => x > 0) / (double)Math.Min(total, c.Count),
                [string.Join(", ", pillars.Select((p, i) => $"{p.Name}: {c[i]}"))])));

        var platformPlans = await after.Step(Step(steps, 6, "Platform-Specific Strategy", "structure",
            () => platforms.Select(p => CalendarSteps.PlatformStrategy(input, p)).ToList(),
            p => new StepScore(p.Count(x => x.ContentType != "post") / (double)Math.Max(1, p.Count),
                [string.Join(", ", platforms.Select((pl, i) => $"{pl}: {p[i].ContentType}"))])));

        var themes = await after.Step(Step(steps, 7, "Weekly Theme Development", "content",
            () => CalendarSteps.WeeklyThemes(sources, weeks),
            t => new StepScore(t.Select(x => x.Theme).Distinct().Count() / (double)t.Count, [string.Join(" | ", t.Select(x => x.Theme))])));

        var planned = await after.Step(Step(steps, 8, "Daily Content Planning", "content",
            () => CalendarSteps.PlanDaily(input, days, perDay, pillars, counts, platforms, themes),
            p => new StepScore(p.Select(x => x.Title).Distinct().Count() / (double)Math.Max(1, p.Count), [$"{p.Count} pieces planned."])));

        var pieces = await after.Step(Step(steps, 9, "Content Recommendations", "content",
            () => CalendarSteps.AttachRecommendations(planned, input.Recommendations),
            p => new StepScore(input.Recommendations.Count == 0 ? 0 : p.Count(x => x.RecommendationId is not null) / (double)input.Recommendations.Count,
                [$"{p.Count(x => x.RecommendationId is not null)} of {input.Recommendations.Count} pending recommendations attached."])));

        await after.Step(Step(steps, 10, "Performance Optimization", "optimization",
            () => CalendarSteps.MeasurePerformance(pieces, pillars, platforms), s => s));

        await after.Step(Step(steps, 11, "Strategy Alignment Validation", "optimization",
            () => CalendarSteps.ValidateAlignment(pieces, input.Goals), s => s));

        var quality = await after.Step(Step(steps, 12, "Final Calendar Assembly", "optimization",
            () => Math.Round(steps.Average(s => s.QualityScore), 4),
            q => new StepScore(q, [$"Overall quality {q:0.00} over {steps.Count} steps."])));

        return new Plan(input, pillars, counts, platforms, platformPlans, themes, pieces, steps, quality);
    }

    /// <summary>Tells the observer (if any) after each step; without one a step costs no await.</summary>
    private sealed class StepObserver(IGenerationObserver? observer, List<StepResult> steps, CancellationToken cancellationToken)
    {
        public async ValueTask<T> Step<T>(T value)
        {
            if (observer is not null)
            {
                await observer.StepCompletedAsync(steps, cancellationToken);
            }

            return value;
        }
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
