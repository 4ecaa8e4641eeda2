using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// Every writable column of <c>content_strategies</c> but user_id: the body of create and full update, and the base
/// of the strategy document. Free-form inputs are JSON (jsonb) and pass through unchanged.
/// </summary>
public class StrategyFields
{
    public string? Name { get; set; }
    public string? Industry { get; set; }

    // Business context
    public JsonNode? BusinessObjectives { get; set; }
    public JsonNode? TargetMetrics { get; set; }
    public decimal? ContentBudget { get; set; }
    public int? TeamSize { get; set; }
    public string? ImplementationTimeline { get; set; }
    public string? MarketShare { get; set; }
    public string? CompetitivePosition { get; set; }
    public JsonNode? PerformanceMetrics { get; set; }

    // Audience
    public JsonNode? ContentPreferences { get; set; }
    public JsonNode? ConsumptionPatterns { get; set; }
    public JsonNode? AudiencePainPoints { get; set; }
    public JsonNode? BuyingJourney { get; set; }
    public JsonNode? SeasonalTrends { get; set; }
    public JsonNode? EngagementMetrics { get; set; }

    // Competition
    public JsonNode? TopCompetitors { get; set; }
    public JsonNode? CompetitorContentStrategies { get; set; }
    public JsonNode? MarketGaps { get; set; }
    public JsonNode? IndustryTrends { get; set; }
    public JsonNode? EmergingTrends { get; set; }

    // Content
    public JsonNode? PreferredFormats { get; set; }
    public JsonNode? ContentMix { get; set; }
    public string? ContentFrequency { get; set; }
    public JsonNode? OptimalTiming { get; set; }
    public JsonNode? QualityMetrics { get; set; }
    public JsonNode? EditorialGuidelines { get; set; }
    public JsonNode? BrandVoice { get; set; }

    // Performance
    public JsonNode? TrafficSources { get; set; }
    public JsonNode? ConversionRates { get; set; }
    public JsonNode? ContentRoiTargets { get; set; }
    public bool AbTestingCapabilities { get; set; }

    public JsonNode? TargetAudience { get; set; }
    public JsonNode? ContentPillars { get; set; }
    public JsonNode? ComprehensiveAiAnalysis { get; set; }

    public static readonly string[] CompetitivePositions = ["leader", "challenger", "niche", "emerging"];

    /// <summary>The 28 strategic inputs that make up completion (performance_metrics and ab_testing_capabilities are metadata).</summary>
    private IEnumerable<object?> StrategicInputs() =>
    [
        BusinessObjectives, TargetMetrics, ContentBudget, TeamSize, ImplementationTimeline, MarketShare, CompetitivePosition,
        ContentPreferences, ConsumptionPatterns, AudiencePainPoints, BuyingJourney, SeasonalTrends, EngagementMetrics,
        TopCompetitors, CompetitorContentStrategies, MarketGaps, IndustryTrends, EmergingTrends,
        PreferredFormats, ContentMix, ContentFrequency, OptimalTiming, QualityMetrics, EditorialGuidelines, BrandVoice,
        TrafficSources, ConversionRates, ContentRoiTargets,
    ];

    public const int StrategicInputCount = 28;

    /// <summary>Percentage (0..100, one decimal) of the 28 strategic inputs that are filled: not null, not blank, not an empty JSON array/object/string.</summary>
    public float ComputeCompletionPercentage()
    {
        var filled = StrategicInputs().Count(IsFilled);
        return MathF.Round(filled * 100f / StrategicInputCount, 1);
    }

    private static bool IsFilled(object? value) => value switch
    {
        null => false,
        string text => !string.IsNullOrWhiteSpace(text),
        JsonArray array => array.Count > 0,
        JsonObject obj => obj.Count > 0,
        JsonValue json => json.GetValueKind() switch
        {
            JsonValueKind.Null => false,
            JsonValueKind.String => !string.IsNullOrWhiteSpace(json.GetValue<string>()),
            _ => true,
        },
        _ => true,
    };

    /// <summary>Column list and matching Dapper parameters, in one order, for INSERT and UPDATE statements.</summary>
    internal static readonly string[] Columns =
    [
        "name", "industry", "business_objectives", "target_metrics", "content_budget", "team_size", "implementation_timeline",
        "market_share", "competitive_position", "performance_metrics", "content_preferences", "consumption_patterns",
        "audience_pain_points", "buying_journey", "seasonal_trends", "engagement_metrics", "top_competitors",
        "competitor_content_strategies", "market_gaps", "industry_trends", "emerging_trends", "preferred_formats", "content_mix",
        "content_frequency", "optimal_timing", "quality_metrics", "editorial_guidelines", "brand_voice", "traffic_sources",
        "conversion_rates", "content_roi_targets", "ab_testing_capabilities", "target_audience", "content_pillars",
        "comprehensive_ai_analysis",
    ];

    internal static string Parameter(string column) => "@" + string.Concat(column.Split('_').Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
}

/// <summary>The one set of rules for strategy fields, used by create and update.</summary>
public sealed class StrategyFieldsValidator : AbstractValidator<StrategyFields>
{
    public StrategyFieldsValidator()
    {
        RuleFor(x => x.Name).NotEmpty().MaximumLength(255);
        RuleFor(x => x.Industry).MaximumLength(255);
        RuleFor(x => x.ContentBudget).GreaterThanOrEqualTo(0);
        RuleFor(x => x.TeamSize).InclusiveBetween(0, 100_000);
        RuleFor(x => x.CompetitivePosition)
            .Must(p => p is null || StrategyFields.CompetitivePositions.Contains(p))
            .WithMessage($"'competitive_position' must be one of {string.Join(", ", StrategyFields.CompetitivePositions)}.");
        RuleFor(x => x.ImplementationTimeline).MaximumLength(255);
        RuleFor(x => x.MarketShare).MaximumLength(255);
        RuleFor(x => x.ContentFrequency).MaximumLength(255);
    }
}
