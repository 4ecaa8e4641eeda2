using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.Shared;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>The assembled "comprehensive user data" (the <c>data</c> member of the response).</summary>
public sealed record ComprehensiveData(
    string UserId,
    OnboardingData? OnboardingData,
    StrategyData? StrategyData,
    GapAnalysisData GapAnalysis,
    IReadOnlyList<RecommendationData> RecommendationsData,
    IReadOnlyDictionary<string, PlatformPerformance> PerformanceData,
    string Industry,
    JsonNode? TargetAudience,
    JsonNode? BusinessGoals,
    IReadOnlyDictionary<string, PlatformPreference> PlatformPreferences,
    DataQuality DataQuality);

public sealed record OnboardingData(
    string? Industry,
    string? BusinessSize,
    JsonNode? TargetAudience,
    string? WritingTone,
    string? WritingVoice,
    JsonNode? ContentTypes,
    JsonNode? BrandValues,
    JsonNode? PlatformPreferences,
    PostingPreferences PostingPreferences,
    JsonNode? PostingDays,
    JsonNode? OptimalTimes);

public sealed record PostingPreferences(JsonNode? Daily, JsonNode? Weekly, JsonNode? Monthly);

public sealed record StrategyData(Strategy Strategy, string Resolution, Activation? Activation);

public sealed record GapAnalysisData(
    IReadOnlyList<JsonNode?> ContentGaps,
    IReadOnlyList<JsonNode?> KeywordOpportunities,
    IReadOnlyList<JsonNode?> CompetitorInsights,
    IReadOnlyList<JsonNode?> Recommendations,
    IReadOnlyList<JsonNode?> Opportunities,
    int AnalysesCount);

public sealed record RecommendationData(
    long Id,
    long? StrategyId,
    string RecommendationType,
    string Title,
    string? Description,
    JsonNode? TargetKeywords,
    string? EstimatedLength,
    string Priority,
    JsonNode? Platforms,
    string Status,
    DateTimeOffset CreatedAt);

public sealed record PlatformPerformance(long Posts, double? AvgPerformanceScore, JsonNode? Totals);

public sealed record PlatformPreference(string Priority, string ContentFocus, string PostingFrequency);

public sealed record DataQuality(double Completeness, double? FreshnessDays, IReadOnlyList<string> MissingSections);

/// <summary>What the cache tiers hold: the data plus where and when it was produced.</summary>
public sealed record ComprehensiveSnapshot(ComprehensiveData Data, string DataHash, DateTimeOffset GeneratedAt, string Origin);
