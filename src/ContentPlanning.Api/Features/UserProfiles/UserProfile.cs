using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.Shared;
using FluentValidation;

namespace ContentPlanning.Api.Features.UserProfiles;

/// <summary>The onboarding answers of one user (user_profiles): every column but the key and the timestamps.</summary>
public class UserProfileFields
{
    public string? Industry { get; set; }
    public string? BusinessSize { get; set; }
    public JsonNode? TargetAudience { get; set; }
    public string? WritingTone { get; set; }
    public string? WritingVoice { get; set; }
    public JsonNode? ContentTypes { get; set; }
    public JsonNode? BrandValues { get; set; }
    public JsonNode? PlatformPreferences { get; set; }

    /// <summary>How often to post: an object such as <c>{"daily": 1, "weekly": 5, "monthly": 20}</c>.</summary>
    public JsonNode? PostingPreferences { get; set; }
    public JsonNode? PostingDays { get; set; }
    public JsonNode? OptimalTimes { get; set; }
    public string? WebsiteUrl { get; set; }
}

/// <summary>A user profile as every endpoint returns it.</summary>
public sealed class UserProfile : UserProfileFields
{
    public string UserId { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    internal const string SelectColumns = """
        user_id, industry, business_size, target_audience, writing_tone, writing_voice, content_types, brand_values,
        platform_preferences, posting_preferences, posting_days, optimal_times, website_url, created_at, updated_at
        """;
}

public sealed class UserProfileFieldsValidator : AbstractValidator<UserProfileFields>
{
    public UserProfileFieldsValidator()
    {
        RuleFor(x => x.Industry).MaximumLength(255);
        RuleFor(x => x.BusinessSize).MaximumLength(100);
        RuleFor(x => x.WritingTone).MaximumLength(255);
        RuleFor(x => x.WritingVoice).MaximumLength(255);
        RuleFor(x => x.WebsiteUrl).AbsoluteHttpUrl();
        RuleFor(x => x.PostingPreferences).JsonObjectOrAbsent();
        RuleFor(x => x.PlatformPreferences).JsonObjectOrAbsent();
    }
}
