namespace ContentPlanning.Api.Features.GenerateCalendar;

/// <summary>Everything the generator reads, already extracted from the strategy and the comprehensive data (plain values only).</summary>
public sealed record GeneratorInput(
    string CalendarType,
    DateOnly StartDate,
    string TimeZone,
    int? PiecesPerDay,
    IReadOnlyList<string> RequestPlatforms,
    IReadOnlyList<Pillar> StrategyPillars,
    string Industry,
    IReadOnlyList<string> PostingDays,
    int? WeeklyPostCount,
    IReadOnlyList<string> ProfilePlatforms,
    IReadOnlyList<string> GapThemes,
    IReadOnlyList<string> Keywords,
    IReadOnlyList<PendingRecommendation> Recommendations,
    IReadOnlyList<string> Goals,
    IReadOnlyDictionary<string, TimeOnly>? PlatformTimes = null,
    TimeOnly? PreferredTime = null);

public sealed record Pillar(string Name, double Weight);

public sealed record PendingRecommendation(long Id, string Title, IReadOnlyList<string> Platforms, IReadOnlyList<string> Keywords);

public sealed record Piece(
    int Index,
    DateOnly Date,
    string DayName,
    int WeekNumber,
    string WeeklyTheme,
    string Pillar,
    string Platform,
    string ContentType,
    string Title,
    string Description,
    string KeyMessage,
    string CallToAction,
    DateTimeOffset PostingTime,
    IReadOnlyList<string> Keywords,
    long? RecommendationId,
    bool TiedToOpportunity);

public sealed record StepScore(double QualityScore, IReadOnlyList<string> Insights);

/// <summary>The generator's rules, each a pure function of plain data (no clock, no randomness, no I/O).</summary>
public static class CalendarSteps
{
    /// <summary>A step passes when its quality score reaches this threshold.</summary>
    public const double PassThreshold = 0.6;

    private static readonly string[] DefaultPlatforms = ["linkedin", "blog", "twitter"];

    private static readonly DayOfWeek[] Weekdays = [DayOfWeek.Monday, DayOfWeek.Tuesday, DayOfWeek.Wednesday, DayOfWeek.Thursday, DayOfWeek.Friday];

    /// <summary>
    /// Step 1: the pillars with normalised weights; without strategy pillars, defaults derived from the industry. A name
    /// given twice (any case) is one pillar with the weights added; weights are scaled by the largest before they are
    /// added, so even weights near the largest double sum to a finite total.
    /// </summary>
    public static IReadOnlyList<Pillar> AnalyseStrategy(GeneratorInput input)
    {
        var given = input.StrategyPillars.Where(p => p.Weight > 0 && double.IsFinite(p.Weight) && !string.IsNullOrWhiteSpace(p.Name))
            .Select(p => p with { Name = p.Name.Trim() }).ToList();
        var largest = given.Count == 0 ? 1 : given.Max(p => p.Weight);
        var pillars = given.GroupBy(p => p.Name, StringComparer.OrdinalIgnoreCase)
            .Select(g => new Pillar(g.First().Name, g.Sum(p => p.Weight / largest))).ToList();
        if (pillars.Count == 0)
        {
            var industry = string.IsNullOrWhiteSpace(input.Industry) ? "business" : input.Industry.Trim();
            pillars = [new($"{industry} education", 0.4), new($"{industry} insights", 0.3), new("Customer stories", 0.2), new("Behind the scenes", 0.1)];
        }

        var total = pillars.Sum(p => p.Weight);
        return pillars.Select(p => p with { Weight = p.Weight / total }).ToList();
    }

    /// <summary>Step 2: theme sources from the gap analyses first (deduplicated, order kept), then the pillars.</summary>
    public static IReadOnlyList<(string Theme, bool FromGap)> IdentifyOpportunities(GeneratorInput input, IReadOnlyList<Pillar> pillars) =>
        input.GapThemes.Where(t => !string.IsNullOrWhiteSpace(t)).Select(t => (t.Trim(), true))
            .Concat(pillars.Select(p => (p.Name, false)))
            .DistinctBy(t => t.Item1.ToLowerInvariant())
            .ToList();

    /// <summary>Step 3: request platforms, else the profile's, else the defaults (lower case, deduplicated, blank names skipped).</summary>
    public static IReadOnlyList<string> ChoosePlatforms(GeneratorInput input)
    {
        static List<string> Clean(IEnumerable<string> names) => names.Select(p => p.Trim().ToLowerInvariant()).Where(p => p.Length > 0).Distinct().ToList();
        var chosen = Clean(input.RequestPlatforms);
        chosen = chosen.Count > 0 ? chosen : Clean(input.ProfilePlatforms);
        return chosen.Count > 0 ? chosen : DefaultPlatforms;
    }

    public static int LengthInDays(string calendarType) => calendarType switch
    {
        "weekly" => 7,
        "monthly" => 28,
        "quarterly" => 84,
        // 52 whole weeks, so every week has its theme and the calendar never ends mid-week.
        "yearly" => 364,
        _ => throw new ArgumentOutOfRangeException(nameof(calendarType), calendarType, "Unknown calendar type."),
    };

    /// <summary>Step 4: the posting dates in the range and the pieces per posting day.</summary>
    public static (IReadOnlyList<DateOnly> Days, int PiecesPerDay) BuildFramework(GeneratorInput input)
    {
        var postingDays = input.PostingDays.Select(d => Enum.TryParse<DayOfWeek>(d.Trim(), ignoreCase: true, out var day) ? (DayOfWeek?)day : null)
            .OfType<DayOfWeek>().Distinct().ToList();
        if (postingDays.Count == 0)
        {
            postingDays = [.. Weekdays];
        }

        var days = Enumerable.Range(0, LengthInDays(input.CalendarType)).Select(input.StartDate.AddDays)
            .Where(d => postingDays.Contains(d.DayOfWeek)).ToList();
        var perDay = input.PiecesPerDay
            ?? (input.WeeklyPostCount is > 0 and var weekly ? Math.Clamp((int)Math.Round(weekly / (double)postingDays.Count), 1, 5) : 1);
        return (days, perDay);
    }

    /// <summary>
    /// Step 5: pieces per pillar by weight (largest remainder, ties by pillar order); with at least as many pieces as
    /// pillars, a pillar left with none takes one from the pillar furthest above its exact share.
    /// </summary>
    public static IReadOnlyList<int> DistributePillars(IReadOnlyList<Pillar> pillars, int pieces)
    {
        var exact = pillars.Select(p => p.Weight * pieces).ToArray();
        var counts = exact.Select(e => (int)Math.Floor(e)).ToArray();
        var left = pieces - counts.Sum();
        foreach (var i in Enumerable.Range(0, pillars.Count).OrderByDescending(i => exact[i] - Math.Floor(exact[i])).ThenBy(i => i).Take(left))
        {
            counts[i]++;
        }

        if (pieces >= pillars.Count)
        {
            for (var empty = Array.IndexOf(counts, 0); empty >= 0; empty = Array.IndexOf(counts, 0))
            {
                var donor = Enumerable.Range(0, pillars.Count).Where(i => counts[i] > 1).OrderByDescending(i => counts[i] - exact[i]).ThenBy(i => i).First();
                counts[donor]--;
                counts[empty]++;
            }
        }

        return counts;
    }

    /// <summary>Platform names a request may give (lower case); each has a content type and a default posting hour.</summary>
    public static readonly string[] KnownPlatforms =
        ["blog", "linkedin", "twitter", "x", "facebook", "instagram", "youtube", "tiktok", "pinterest", "threads", "medium", "newsletter", "email", "podcast"];

    /// <summary>
    /// Step 6: the content type of each platform and its local posting time: the strategy's optimal timing for that platform,
    /// else its general time, else the profile's optimal time (per platform, then general), else the platform's default hour.
    /// </summary>
    public static (string ContentType, TimeOnly Time) PlatformStrategy(GeneratorInput input, string platform)
    {
        var (contentType, defaultTime) = PlatformDefaults(platform);
        var time = input.PlatformTimes is { } times && times.TryGetValue(platform, out var preferred) ? preferred : input.PreferredTime ?? defaultTime;
        return (contentType, time);
    }

    private static (string ContentType, TimeOnly Time) PlatformDefaults(string platform) => platform switch
    {
        "youtube" => ("video", new TimeOnly(17, 0)),
        "tiktok" => ("short video", new TimeOnly(19, 0)),
        "instagram" => ("image post", new TimeOnly(11, 0)),
        "blog" => ("article", new TimeOnly(8, 0)),
        "linkedin" => ("professional post", new TimeOnly(9, 0)),
        "twitter" or "x" => ("thread", new TimeOnly(12, 0)),
        "facebook" => ("community post", new TimeOnly(13, 0)),
        "newsletter" or "email" => ("newsletter", new TimeOnly(7, 0)),
        "pinterest" => ("pin", new TimeOnly(20, 0)),
        "threads" => ("short post", new TimeOnly(12, 0)),
        "medium" => ("article", new TimeOnly(8, 0)),
        "podcast" => ("audio episode", new TimeOnly(6, 0)),
        _ => ("post", new TimeOnly(10, 0)),
    };

    /// <summary>Step 7: one theme per week, no repeats until the sources run out.</summary>
    public static IReadOnlyList<(string Theme, bool FromGap)> WeeklyThemes(IReadOnlyList<(string Theme, bool FromGap)> sources, int weeks) =>
        Enumerable.Range(0, weeks).Select(w => sources[w % sources.Count]).ToList();

    /// <summary>Spreads counts over a sequence evenly: item k of a value with count c sits at (k + 0.5) / c.</summary>
    public static IReadOnlyList<int> Interleave(IReadOnlyList<int> counts) =>
        counts.SelectMany((c, i) => Enumerable.Range(0, c).Select(k => (Position: (k + 0.5) / c, Item: i)))
            .OrderBy(x => x.Position).ThenBy(x => x.Item).Select(x => x.Item).ToList();

    /// <summary>
    /// Step 8: the concrete pieces, pillars and platforms spread evenly, titles unique. The pieces of one day post at
    /// distinct times at least an hour apart: in the day's order, each at its platform's time or an hour after the day's
    /// previous piece, whichever is later.
    /// </summary>
    public static IReadOnlyList<Piece> PlanDaily(
        GeneratorInput input, IReadOnlyList<DateOnly> days, int perDay, IReadOnlyList<Pillar> pillars, IReadOnlyList<int> pillarCounts,
        IReadOnlyList<string> platforms, IReadOnlyList<(string Theme, bool FromGap)> themes)
    {
        var total = days.Count * perDay;
        var pillarOrder = Interleave(pillarCounts);
        var platformOrder = Interleave(DistributePillars(platforms.Select(p => new Pillar(p, 1.0 / platforms.Count)).ToList(), total));
        var zone = TimeZoneInfo.FindSystemTimeZoneById(input.TimeZone);
        var titles = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var pieces = new List<Piece>(total);
        var previous = DateTime.MinValue;
        for (var i = 0; i < total; i++)
        {
            var date = days[i / perDay];
            var week = (date.DayNumber - input.StartDate.DayNumber) / 7;
            var (theme, fromGap) = themes[week];
            var pillar = pillars[pillarOrder[i]].Name;
            var platform = platforms[platformOrder[i]];
            var (contentType, time) = PlatformStrategy(input, platform);
            var local = date.ToDateTime(time);
            if (i % perDay > 0 && local < previous.AddHours(1))
            {
                local = previous.AddHours(1);
            }

            previous = local;
            var posting = new DateTimeOffset(local, zone.GetUtcOffset(local));
            var keyword = input.Keywords.Count > 0 ? input.Keywords[i % input.Keywords.Count] : pillar;
            var subject = Subject(theme, pillar, keyword);
            var title = $"{subject} ({contentType}, {date:MMM d})";
            for (var n = 2; !titles.Add(title); n++)
            {
                title = $"{subject} ({contentType}, {date:MMM d}, part {n})";
            }

            var goal = input.Goals.Count > 0 ? input.Goals[i % input.Goals.Count] : $"authority in {pillar}";
            pieces.Add(new Piece(
                i, date, date.DayOfWeek.ToString(), week + 1, theme, pillar, platform, contentType, title,
                Description(contentType, platform, theme, pillar, keyword),
                $"{pillar} supports {goal}.",
                platform == "blog" ? "Read the full article" : "Share your take in the comments",
                posting, input.Keywords.Count > 0 ? [keyword] : [], null,
                fromGap || input.Keywords.Count > 0));
        }

        return pieces;
    }

    /// <summary>
    /// "theme: pillar and keyword", naming each distinct part once: a part equal to (or contained in) an earlier one is
    /// left out, so a theme that is also the pillar and the keyword reads "Tutorials", not "Tutorials: Tutorials and Tutorials".
    /// </summary>
    public static string Subject(string theme, string pillar, string keyword)
    {
        var parts = DistinctParts(theme, pillar, keyword);
        return parts.Count switch
        {
            1 => parts[0],
            2 => $"{parts[0]}: {parts[1]}",
            _ => $"{parts[0]}: {parts[1]} and {parts[2]}",
        };
    }

    /// <summary>"An article for the blog on winter boots, in the week's theme "Sizing guides" and the pillar Education."; repeated parts left out.</summary>
    public static string Description(string contentType, string platform, string theme, string pillar, string keyword)
    {
        var text = new System.Text.StringBuilder($"{Article(contentType)} {contentType} for {PlatformName(platform)} on {keyword}");
        var showTheme = !Overlap(theme, keyword);
        var showPillar = !Overlap(pillar, keyword) && !(showTheme && Overlap(pillar, theme));
        if (showTheme)
        {
            text.Append($", in the week's theme \"{theme}\"");
        }

        if (showPillar)
        {
            text.Append(showTheme ? $" and the pillar {pillar}" : $", in the pillar {pillar}");
        }

        return text.Append('.').ToString();
    }

    private static List<string> DistinctParts(params string[] parts)
    {
        var kept = new List<string>(parts.Length);
        foreach (var part in parts)
        {
            if (!kept.Exists(k => Overlap(k, part)))
            {
                kept.Add(part);
            }
        }

        return kept;
    }

    private static bool Overlap(string a, string b) => a.Contains(b, StringComparison.OrdinalIgnoreCase) || b.Contains(a, StringComparison.OrdinalIgnoreCase);

    /// <summary>"a" or "an" by the first letter's sound (content types here all start with a consonant or a plain vowel).</summary>
    public static string Article(string noun) =>
        noun.Length > 0 && "aeiouAEIOU".Contains(noun[0], StringComparison.Ordinal) ? "An" : "A";

    private static string PlatformName(string platform) => platform switch
    {
        "blog" => "the blog",
        "newsletter" => "the newsletter",
        "email" => "email",
        "podcast" => "the podcast",
        "linkedin" => "LinkedIn",
        "youtube" => "YouTube",
        "tiktok" => "TikTok",
        "x" => "X",
        _ when KnownPlatforms.Contains(platform) => char.ToUpperInvariant(platform[0]) + platform[1..],
        _ => platform,
    };

    /// <summary>Step 9: each pending recommendation goes to the first piece on a matching platform with a matching keyword (or title word).</summary>
    public static IReadOnlyList<Piece> AttachRecommendations(IReadOnlyList<Piece> pieces, IReadOnlyList<PendingRecommendation> recommendations)
    {
        var result = pieces.ToArray();
        foreach (var rec in recommendations.OrderBy(r => r.Id))
        {
            var match = Array.FindIndex(result, p => p.RecommendationId is null
                && (rec.Platforms.Count == 0 || rec.Platforms.Contains(p.Platform, StringComparer.OrdinalIgnoreCase))
                && (rec.Keywords.Count == 0 || rec.Keywords.Any(k => p.Keywords.Contains(k, StringComparer.OrdinalIgnoreCase)
                    || p.Title.Contains(k, StringComparison.OrdinalIgnoreCase))));
            if (match >= 0)
            {
                result[match] = result[match] with { RecommendationId = rec.Id, TiedToOpportunity = true };
            }
        }

        return result;
    }

    /// <summary>Step 10: pillar balance (1 - total variation distance to the target weights) and platform coverage.</summary>
    public static StepScore MeasurePerformance(IReadOnlyList<Piece> pieces, IReadOnlyList<Pillar> pillars, IReadOnlyList<string> platforms)
    {
        if (pieces.Count == 0)
        {
            return new StepScore(0, ["The calendar has no pieces."]);
        }

        var deviation = pillars.Sum(p => Math.Abs((pieces.Count(x => x.Pillar == p.Name) / (double)pieces.Count) - p.Weight)) / 2;
        var balance = 1 - deviation;
        var coverage = platforms.Count(pl => pieces.Any(x => x.Platform == pl)) / (double)Math.Max(1, platforms.Count);
        return new StepScore(Math.Round((balance + coverage) / 2, 4),
            [$"Pillar balance {balance:0.00} (deviation {deviation:0.00} from target weights).", $"Platform coverage {coverage:0.00}."]);
    }

    /// <summary>Step 11: the share tied to a gap or keyword opportunity, theme diversity and how many goals the pieces carry.</summary>
    public static StepScore ValidateAlignment(IReadOnlyList<Piece> pieces, IReadOnlyList<string> goals)
    {
        if (pieces.Count == 0)
        {
            return new StepScore(0, ["The calendar has no pieces."]);
        }

        var tied = pieces.Count(p => p.TiedToOpportunity) / (double)pieces.Count;
        var weeks = pieces.Select(p => p.WeekNumber).Distinct().Count();
        var diversity = pieces.Select(p => p.WeeklyTheme).Distinct().Count() / (double)weeks;
        // Without stated goals the calendar cannot be aligned to them: that part scores zero.
        var goalCoverage = goals.Count == 0 ? 0 : goals.Count(g => pieces.Any(p => p.KeyMessage.Contains(g, StringComparison.Ordinal))) / (double)goals.Count;
        return new StepScore(Math.Round((tied + diversity + goalCoverage) / 3, 4),
            [$"{tied:P0} of pieces tied to an opportunity.", $"Theme diversity {diversity:0.00}.", $"Goal coverage {goalCoverage:0.00}."]);
    }
}
