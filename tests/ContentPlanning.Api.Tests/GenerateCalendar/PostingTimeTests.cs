using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.GenerateCalendar;

namespace ContentPlanning.Api.Tests.GenerateCalendar;

/// <summary>Step 6's posting times: the strategy's timing, then the profile's, then the platform's default hour.</summary>
public sealed class PostingTimeTests
{
    private static GeneratorInput Input(IReadOnlyDictionary<string, TimeOnly>? platformTimes = null, TimeOnly? preferred = null) =>
        new("weekly", new DateOnly(2026, 3, 2), "UTC", 1, ["blog"], [], "retail", [], null, [], [], [], [], [], platformTimes, preferred);

    [Test]
    public void APlatformTimeWinsOverTheGeneralTimeWhichWinsOverTheDefault()
    {
        Assert.That(CalendarSteps.PlatformStrategy(Input(), "linkedin").Time, Is.EqualTo(new TimeOnly(9, 0)), "the default hour");
        Assert.That(CalendarSteps.PlatformStrategy(Input(preferred: new TimeOnly(14, 30)), "linkedin").Time, Is.EqualTo(new TimeOnly(14, 30)));
        var times = new Dictionary<string, TimeOnly> { ["linkedin"] = new(7, 15) };
        Assert.That(CalendarSteps.PlatformStrategy(Input(times, new TimeOnly(14, 30)), "linkedin").Time, Is.EqualTo(new TimeOnly(7, 15)));
        Assert.That(CalendarSteps.PlatformStrategy(Input(times, new TimeOnly(14, 30)), "blog").Time, Is.EqualTo(new TimeOnly(14, 30)));
    }

    [Test]
    public void TimesAreReadFromTheStrategyFirstThenTheProfile()
    {
        var strategy = JsonNode.Parse("""{"LinkedIn": ["08:45", "17:00"], "blog": "nonsense"}""");
        var profile = JsonNode.Parse("""{"blog": "10:30", "linkedin": "12:00"}""");

        var times = GeneratorInputMapping.PlatformTimes(strategy, profile);

        Assert.That(times["linkedin"], Is.EqualTo(new TimeOnly(8, 45)));
        Assert.That(times["blog"], Is.EqualTo(new TimeOnly(10, 30)), "the strategy's unreadable value falls back to the profile's");
        Assert.That(GeneratorInputMapping.FirstTime(JsonNode.Parse("""["x", "9:05"]""")), Is.EqualTo(new TimeOnly(9, 5)));
        Assert.That(GeneratorInputMapping.FirstTime(profile), Is.Null, "an object keyed by platform gives no general time");
    }

    [Test]
    public void ThePreferredTimeIsWhatThePiecesArePostedAt()
    {
        var input = Input(new Dictionary<string, TimeOnly> { ["blog"] = new(6, 40) }) with { CalendarType = "weekly" };
        var pillars = CalendarSteps.AnalyseStrategy(input);
        var platforms = CalendarSteps.ChoosePlatforms(input);
        var (days, perDay) = CalendarSteps.BuildFramework(input);
        var counts = CalendarSteps.DistributePillars(pillars, days.Count * perDay);
        var themes = CalendarSteps.WeeklyThemes(CalendarSteps.IdentifyOpportunities(input, pillars), 1);

        var pieces = CalendarSteps.PlanDaily(input, days, perDay, pillars, counts, platforms, themes);

        Assert.That(pieces.Select(p => TimeOnly.FromTimeSpan(p.PostingTime.TimeOfDay)).Distinct(), Is.EqualTo(new[] { new TimeOnly(6, 40) }));
    }
}
