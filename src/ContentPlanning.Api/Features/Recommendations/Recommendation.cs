using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.Shared;
using FluentValidation;

namespace ContentPlanning.Api.Features.Recommendations;

/// <summary>The writable fields of a content recommendation (content_recommendations) but its owner.</summary>
public class RecommendationFields
{
    public long? StrategyId { get; set; }
    public string? RecommendationType { get; set; }
    public string? Title { get; set; }
    public string? Description { get; set; }
    public JsonNode? TargetKeywords { get; set; }
    public string? EstimatedLength { get; set; }

    /// <summary>low, medium or high; absent means medium.</summary>
    public string? Priority { get; set; }
    public JsonNode? Platforms { get; set; }

    /// <summary>pending, accepted, rejected or implemented; absent means pending.</summary>
    public string? Status { get; set; }

    public static readonly string[] Priorities = ["low", "medium", "high"];
    public static readonly string[] Statuses = ["pending", "accepted", "rejected", "implemented"];
}

/// <summary>A content recommendation as every endpoint returns it.</summary>
public sealed class Recommendation : RecommendationFields
{
    public long Id { get; set; }
    public string UserId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal const string SelectColumns = """
        id, user_id, strategy_id, recommendation_type, title, description, target_keywords, estimated_length, priority, platforms,
        status, created_at, updated_at
        """;
}

/// <summary>The schema's CHECKs, mirrored so the client gets field errors and never a database error.</summary>
public sealed class RecommendationFieldsValidator : AbstractValidator<RecommendationFields>
{
    public RecommendationFieldsValidator()
    {
        RuleFor(x => x.StrategyId).GreaterThan(0);
        RuleFor(x => x.RecommendationType).NotEmpty().MaximumLength(100);
        RuleFor(x => x.Title).NotEmpty().MaximumLength(500);
        RuleFor(x => x.Description).MaximumLength(10_000);
        RuleFor(x => x.EstimatedLength).MaximumLength(100);
        RuleFor(x => x.Priority).OneOf(RecommendationFields.Priorities);
        RuleFor(x => x.Status).OneOf(RecommendationFields.Statuses);
        RuleFor(x => x.TargetKeywords).JsonArrayOrAbsent();
        RuleFor(x => x.Platforms).JsonArrayOrAbsent();
    }
}
