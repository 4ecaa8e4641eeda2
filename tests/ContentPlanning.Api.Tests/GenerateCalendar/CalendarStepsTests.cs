using ContentPlanning.Api.Features.GenerateCalendar;

namespace ContentPlanning.Api.Tests.GenerateCalendar;

public sealed class CalendarStepsTests
{
    private static GeneratorInput Input(
        string type = "weekly", int? perDay = 2, string[]? platforms = null, Pillar[]? pillars = null, string[]? postingDays = null,
        string[]? gapThemes = null, string[]? keywords = null, string[]? goals = null, PendingRecommendation[]? recommendations = null,
        string timezone = "UTC") =>
        new(type, new DateOnly(2026, 3, 2), timezone, perDay, platforms ?? ["blog", "youtube"], pillars ?? [new("Education", 3), new("Stories", 1)],
            "retail", postingDays ?? [], null, [], gapThemes ?? ["Sizing guides"], keywords ?? ["winter boots"], recommendations ?? [], goals ?? ["brand awareness"]);

    private static IReadOnlyList<Piece> Generate(GeneratorInput input, out IReadOnlyList<Pillar> pillars, out IReadOnlyList<string> platforms)
    {
        pillars = CalendarSteps.AnalyseStrategy(input);
        platforms = CalendarSteps.ChoosePlatforms(input);
        var (days, perDay) = CalendarSteps.BuildFramework(input);
        var counts = CalendarSteps.DistributePillars(pillars, days.Count * perDay);
        var themes = CalendarSteps.WeeklyThemes(CalendarSteps.IdentifyOpportunities(input, pillars), CalendarSteps.LengthInDays(input.CalendarType) / 7);
        return CalendarSteps.AttachRecommendations(CalendarSteps.PlanDaily(input, days, perDay, pillars, counts, platforms, themes), input.Recommendations);
    }

    [Test]
    public void PiecesArePostingDaysTimesPiecesPerDayWithUniqueTitles()
    {
        var pieces = Generate(Input(type: "quarterly", perDay: 3), out _, out _);
        Assert.Multiple(() =>
        {
            Assert.That(pieces, Has.Count.EqualTo(60 * 3), "84 days hold 60 weekdays");
            Assert.That(pieces.Select(p => p.Title).Distinct().Count(), Is.EqualTo(pieces.Count));
            Assert.That(pieces.All(p => p.Date.DayOfWeek is not DayOfWeek.Saturday and not DayOfWeek.Sunday));
        });
    }

    [Test]
    public void AYearlyCalendarIsFiftyTwoWeeksEachWithItsThemeAndUniqueTitles()
    {
        var every = new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" };
        var pieces = Generate(Input(type: "yearly", perDay: 4, postingDays: every), out _, out _);
        Assert.Multiple(() =>
        {
            Assert.That(pieces, Has.Count.EqualTo(364 * 4), "52 weeks of 7 posting days at 4 pieces a day");
            Assert.That(pieces.Min(p => p.Date), Is.EqualTo(new DateOnly(2026, 3, 2)));
            Assert.That(pieces.Max(p => p.Date), Is.EqualTo(new DateOnly(2026, 3, 2).AddDays(363)));
            Assert.That(pieces.Select(p => p.WeekNumber).Distinct().Count(), Is.EqualTo(52));
            Assert.That(pieces.Select(p => p.Title).Distinct().Count(), Is.EqualTo(pieces.Count));
        });
    }

    [Test]
    public void ProfilePostingDaysAreReadInAnyCase()
    {
        var (days, _) = CalendarSteps.BuildFramework(Input(postingDays: ["TUESDAY", "saturday"]));
        Assert.That(days.Select(d => d.DayOfWeek), Is.EqualTo(new[] { DayOfWeek.Tuesday, DayOfWeek.Saturday }));
    }

    [Test]
    public void PillarsSplitByWeightAndNoneIsLeftOutWhenPiecesSuffice()
    {
        var pillars = CalendarSteps.AnalyseStrategy(Input(pillars: [new("A", 8), new("B", 1), new("C", 1)]));
        Assert.Multiple(() =>
        {
            Assert.That(CalendarSteps.DistributePillars(pillars, 10), Is.EqualTo(new[] { 8, 1, 1 }));
            Assert.That(CalendarSteps.DistributePillars(pillars, 3), Is.EqualTo(new[] { 1, 1, 1 }));
            Assert.That(CalendarSteps.DistributePillars(pillars, 2).Sum(), Is.EqualTo(2));
        });
    }

    [Test]
    public void WithoutPillarsTheIndustryDefaultsApply()
    {
        var pillars = CalendarSteps.AnalyseStrategy(Input(pillars: []));
        Assert.That(pillars.Select(p => p.Name), Does.Contain("retail education"));
        Assert.That(pillars.Sum(p => p.Weight), Is.EqualTo(1).Within(1e-9));
    }

    [Test]
    public void EveryPlatformGetsAPieceAndContentTypesFitThePlatform()
    {
        var pieces = Generate(Input(perDay: 1, platforms: ["youtube", "blog", "linkedin", "instagram", "tiktok"]), out _, out var platforms);
        Assert.Multiple(() =>
        {
            Assert.That(pieces.Select(p => p.Platform).Distinct(), Is.EquivalentTo(platforms));
            Assert.That(pieces.Where(p => p.Platform == "youtube").Select(p => p.ContentType), Is.All.EqualTo("video"));
            Assert.That(pieces.Where(p => p.Platform == "blog").Select(p => p.ContentType), Is.All.EqualTo("article"));
        });
    }

    [Test]
    public void PostingTimesCarryTheOffsetOfTheirDateSoDaylightSavingShows()
    {
        // Europe/Berlin moves from +01:00 to +02:00 on 2026-03-29, inside a quarter starting 2026-03-02.
        var pieces = Generate(Input(type: "quarterly", perDay: 1, timezone: "Europe/Berlin"), out _, out _);
        Assert.Multiple(() =>
        {
            Assert.That(pieces[0].PostingTime.Offset, Is.EqualTo(TimeSpan.FromHours(1)));
            Assert.That(pieces[^1].PostingTime.Offset, Is.EqualTo(TimeSpan.FromHours(2)));
        });
    }

    [Test]
    public void ThemesComeFromGapsFirstAndDoNotRepeatWhileSourcesLast()
    {
        var input = Input(gapThemes: ["Sizing guides", "Care tips", "sizing guides"]);
        var pillars = CalendarSteps.AnalyseStrategy(input);
        var themes = CalendarSteps.WeeklyThemes(CalendarSteps.IdentifyOpportunities(input, pillars), 4);
        Assert.That(themes.Select(t => t.Theme), Is.EqualTo(new[] { "Sizing guides", "Care tips", "Education", "Stories" }));
    }

    [Test]
    public void EachRecommendationIsAttachedOnceToAMatchingPiece()
    {
        var recs = new PendingRecommendation[] { new(7, "Boot care", ["youtube"], ["winter boots"]), new(8, "Podcast", ["podcast"], []) };
        var pieces = Generate(Input(recommendations: recs), out _, out _);
        var attached = pieces.Where(p => p.RecommendationId is not null).ToList();
        Assert.That(attached, Has.Count.EqualTo(1));
        Assert.That(attached[0].RecommendationId, Is.EqualTo(7));
        Assert.That(attached[0].Platform, Is.EqualTo("youtube"));
    }

    [Test]
    public void AnUnbalancedCalendarScoresLowerThanABalancedOne()
    {
        var pieces = Generate(Input(type: "monthly"), out var pillars, out var platforms);
        var balanced = CalendarSteps.MeasurePerformance(pieces, pillars, platforms);
        var unbalanced = CalendarSteps.MeasurePerformance(pieces.Select(p => p with { Pillar = pillars[1].Name, Platform = "blog" }).ToList(), pillars, platforms);
        Assert.That(unbalanced.QualityScore, Is.LessThan(balanced.QualityScore));
        Assert.That(balanced.QualityScore, Is.GreaterThanOrEqualTo(CalendarSteps.PassThreshold));
    }

    [Test]
    public void AlignmentDependsOnTheUsersData()
    {
        var rich = Generate(Input(type: "monthly"), out _, out _);
        var poor = Generate(Input(type: "monthly", gapThemes: [], keywords: [], goals: []), out _, out _);
        Assert.That(CalendarSteps.ValidateAlignment(poor, []).QualityScore, Is.LessThan(CalendarSteps.ValidateAlignment(rich, ["brand awareness"]).QualityScore));
    }

    [Test]
    public void TheSameInputYieldsTheSameCalendar()
    {
        var first = Generate(Input(type: "monthly"), out _, out _);
        var second = Generate(Input(type: "monthly"), out _, out _);
        Assert.That(second.Select(p => (p.Title, p.Platform, p.Pillar, p.PostingTime)), Is.EqualTo(first.Select(p => (p.Title, p.Platform, p.Pillar, p.PostingTime))));
    }

    [Test]
    public void ThePiecesOfOneDayPostAtDistinctTimesAtLeastAnHourApart()
    {
        // Issue 25: linkedin posts at 09:00 and blog at 08:00; "an hour later" for the day's second piece put it at 09:00 too.
        var pieces = Generate(Input(perDay: 3, platforms: ["linkedin", "blog", "twitter"]), out _, out _);

        foreach (var day in pieces.GroupBy(p => p.Date))
        {
            var times = day.Select(p => p.PostingTime).Order().ToList();
            Assert.That(times.Zip(times.Skip(1), (a, b) => b - a), Is.All.GreaterThanOrEqualTo(TimeSpan.FromHours(1)), $"{day.Key}: {string.Join(", ", times)}");
        }
    }

    [Test]
    public void GeneratedTitlesAndDescriptionsNameEachPartOnceWithTheRightArticle()
    {
        // Issue 25: "Tutorials: Tutorials and Tutorials (article, Dec 9)", "A article for blog".
        var pieces = Generate(Input(pillars: [new("Tutorials", 1)], gapThemes: ["Tutorials"], keywords: [], platforms: ["blog", "instagram"]), out _, out _);

        Assert.Multiple(() =>
        {
            foreach (var piece in pieces)
            {
                Assert.That(System.Text.RegularExpressions.Regex.Count(piece.Title, "Tutorials"), Is.EqualTo(1), piece.Title);
                Assert.That(System.Text.RegularExpressions.Regex.Count(piece.Description, "Tutorials"), Is.EqualTo(1), piece.Description);
                Assert.That(piece.Description, Does.StartWith(piece.Platform == "blog" ? "An article for the blog" : "An image post for Instagram"));
            }
        });
    }

    [Test]
    public void DuplicateOrHugePillarsAndBlankPlatformNamesStillPlanACalendar()
    {
        // Issue 21 item 5: these made generation throw (a dictionary key twice, an infinite weight sum, no platform left).
        var duplicates = CalendarSteps.AnalyseStrategy(Input(pillars: [new("x", 1), new("X", 2), new("y", 1)]));
        var huge = CalendarSteps.AnalyseStrategy(Input(pillars: [new("a", 1e308), new("b", 1e308)]));
        var platforms = CalendarSteps.ChoosePlatforms(Input(platforms: []) with { ProfilePlatforms = ["", " "] });

        Assert.Multiple(() =>
        {
            Assert.That(duplicates.Select(p => (p.Name, p.Weight)), Is.EqualTo(new[] { ("x", 0.75), ("y", 0.25) }));
            Assert.That(huge.Select(p => p.Weight), Is.EqualTo(new[] { 0.5, 0.5 }));
            Assert.That(platforms, Is.EqualTo(new[] { "linkedin", "blog", "twitter" }));
            Assert.That(Generate(Input(pillars: [new("a", 1e308), new("a", 1e308)]), out _, out _), Is.Not.Empty);
        });
    }
}
