using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.GetComprehensiveUserData;
using ContentPlanning.Api.Features.Shared;

namespace ContentPlanning.Api.Features.GenerateCalendar;

/// <summary>
/// Extracts the generator's plain input from the strategy's and the profile's free-form JSON fields. Whatever those hold
/// (blank or duplicate names, huge weights, names of any length), the input is plannable: blank names are skipped, every
/// name is trimmed and cut to <see cref="MaxNameLength"/> characters, and weights are finite and positive or the pillar
/// is left out (see <see cref="CalendarSteps.AnalyseStrategy"/> for duplicates).
/// </summary>
public static class GeneratorInputMapping
{
    /// <summary>A theme, pillar, keyword or platform name longer than this is cut, so a generated title stays within the column's 500 characters.</summary>
    public const int MaxNameLength = 100;

    private static readonly string[] NameFields = ["name", "title", "keyword", "topic", "gap", "opportunity", "pillar"];

    internal static GeneratorInput From(GenerateCalendar.Command request, ComprehensiveData data, Strategy strategy, string timezone, DateOnly defaultStart)
    {
        var onboarding = data.OnboardingData;
        var weekly = onboarding?.PostingPreferences.Weekly;
        int? weeklyCount = weekly is JsonValue v && v.TryGetValue<int>(out var n) ? n : null;
        return new GeneratorInput(
            request.CalendarType,
            request.StartDate ?? defaultStart,
            timezone,
            request.PiecesPerDay,
            request.Platforms ?? [],
            Pillars(strategy.ContentPillars),
            Clean(strategy.Industry) ?? Clean(data.Industry) ?? "",
            Names(onboarding?.PostingDays),
            weeklyCount,
            data.PlatformPreferences.Keys.Select(Clean).OfType<string>().ToList() is { Count: > 0 } preferred ? preferred : Names(onboarding?.PlatformPreferences),
            [.. data.GapAnalysis.Opportunities.Concat(data.GapAnalysis.ContentGaps).Concat(data.GapAnalysis.KeywordOpportunities).SelectMany(Names)],
            [.. data.GapAnalysis.KeywordOpportunities.SelectMany(Names).Distinct(StringComparer.OrdinalIgnoreCase)],
            [.. data.RecommendationsData.Where(r => r.Status == "pending").Select(r => new PendingRecommendation(r.Id, r.Title, Names(r.Platforms), Names(r.TargetKeywords)))],
            Names(strategy.BusinessObjectives ?? data.BusinessGoals),
            PlatformTimes(strategy.OptimalTiming, onboarding?.OptimalTimes),
            FirstTime(strategy.OptimalTiming) ?? FirstTime(onboarding?.OptimalTimes));
    }

    /// <summary>Per-platform times from objects keyed by platform (the strategy's first, the profile's where it has none).</summary>
    public static IReadOnlyDictionary<string, TimeOnly> PlatformTimes(JsonNode? strategyTiming, JsonNode? profileTimes)
    {
        var times = new Dictionary<string, TimeOnly>(StringComparer.Ordinal);
        foreach (var source in new[] { strategyTiming, profileTimes })
        {
            if (source is not JsonObject byPlatform)
            {
                continue;
            }

            foreach (var (platform, value) in byPlatform)
            {
                if (FirstTime(value) is { } time)
                {
                    times.TryAdd(platform.Trim().ToLowerInvariant(), time);
                }
            }
        }

        return times;
    }

    /// <summary>The first "HH:mm" of a string or a list (an object keyed by platform gives no general time).</summary>
    public static TimeOnly? FirstTime(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<string>(out var s) && TimeOnly.TryParseExact(s.Trim(), ["HH:mm", "H:mm", "HH:mm:ss"], out var t) => t,
        JsonArray list => list.Select(FirstTime).FirstOrDefault(t => t is not null),
        _ => null,
    };

    /// <summary>A list of names, a map of name to weight, or a list of objects with name and weight.</summary>
    public static IReadOnlyList<Pillar> Pillars(JsonNode? node) => node switch
    {
        JsonObject map => [.. map.Select(kv => new Pillar(Clean(kv.Key) ?? "", kv.Value is JsonValue w && w.TryGetValue<double>(out var d) ? d : 1))],
        JsonArray list => [.. list.Select(item => item switch
        {
            JsonObject o => new Pillar(Names(o) is [var first, ..] ? first : "", o["weight"] is JsonValue w && w.TryGetValue<double>(out var d) ? d : 1),
            _ => new Pillar(Names(item) is [var first, ..] ? first : "", 1),
        })],
        _ => [],
    };

    /// <summary>Strings of a string, a list, an object's name-like field, or an object's keys.</summary>
    public static IReadOnlyList<string> Names(JsonNode? node) => node switch
    {
        JsonValue value when value.TryGetValue<string>(out var s) => Clean(s) is { } name ? [name] : [],
        JsonArray list => [.. list.SelectMany(Names)],
        JsonObject o when NameFields.FirstOrDefault(o.ContainsKey) is { } field => Names(o[field]),
        JsonObject o => [.. o.Select(kv => Clean(kv.Key)).OfType<string>()],
        _ => [],
    };

    /// <summary>The name trimmed and cut to <see cref="MaxNameLength"/> characters (never inside a surrogate pair); null when blank.</summary>
    public static string? Clean(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }

        var trimmed = name.Trim();
        if (trimmed.Length <= MaxNameLength)
        {
            return trimmed;
        }

        var cut = char.IsHighSurrogate(trimmed[MaxNameLength - 1]) ? MaxNameLength - 1 : MaxNameLength;
        return trimmed[..cut].TrimEnd();
    }
}
