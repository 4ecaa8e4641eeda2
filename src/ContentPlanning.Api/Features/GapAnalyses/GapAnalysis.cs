using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.Shared;
using FluentValidation;

namespace ContentPlanning.Api.Features.GapAnalyses;

/// <summary>The writable fields of a content gap analysis (content_gap_analyses) but its owner.</summary>
public class GapAnalysisFields
{
    public string? WebsiteUrl { get; set; }
    public JsonNode? CompetitorUrls { get; set; }
    public JsonNode? TargetKeywords { get; set; }
    public JsonNode? AnalysisResults { get; set; }
    public JsonNode? Recommendations { get; set; }
    public JsonNode? Opportunities { get; set; }
}

/// <summary>A content gap analysis as every endpoint returns it.</summary>
public sealed class GapAnalysis : GapAnalysisFields
{
    public long Id { get; set; }
    public string UserId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal const string SelectColumns =
        "id, user_id, website_url, competitor_urls, target_keywords, analysis_results, recommendations, opportunities, created_at, updated_at";
}

public sealed class GapAnalysisFieldsValidator : AbstractValidator<GapAnalysisFields>
{
    public GapAnalysisFieldsValidator()
    {
        RuleFor(x => x.WebsiteUrl).NotEmpty().AbsoluteHttpUrl();
        RuleFor(x => x.CompetitorUrls).JsonArrayOrAbsent();
        RuleFor(x => x.TargetKeywords).JsonArrayOrAbsent();
    }
}
