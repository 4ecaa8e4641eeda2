using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>Validation rules the source-data slices share, so a URL, a JSON shape or a list limit is judged the same way everywhere.</summary>
public static class FieldRules
{
    public const int MaxUrlLength = 2048;
    public const int DefaultListLimit = 20;
    public const int MaxListLimit = 100;

    public static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Host.Length > 0;

    /// <summary>An absolute http(s) URL of at most 2048 characters; null passes (chain NotEmpty when required).</summary>
    public static IRuleBuilderOptions<T, string?> AbsoluteHttpUrl<T>(this IRuleBuilder<T, string?> rule) =>
        rule.MaximumLength(MaxUrlLength)
            .Must(url => url is null || IsAbsoluteHttpUrl(url))
            .WithMessage("'{PropertyName}' must be an absolute http or https URL.");

    /// <summary>Absent (or JSON null) passes; otherwise the value must be a JSON object.</summary>
    public static IRuleBuilderOptions<T, JsonNode?> JsonObjectOrAbsent<T>(this IRuleBuilder<T, JsonNode?> rule) =>
        rule.Must(node => node is null || node.GetValueKind() == JsonValueKind.Object)
            .WithMessage("'{PropertyName}' must be a JSON object.");

    /// <summary>Absent (or JSON null) passes; otherwise the value must be a JSON array.</summary>
    public static IRuleBuilderOptions<T, JsonNode?> JsonArrayOrAbsent<T>(this IRuleBuilder<T, JsonNode?> rule) =>
        rule.Must(node => node is null || node.GetValueKind() == JsonValueKind.Array)
            .WithMessage("'{PropertyName}' must be a JSON array.");

    public static IRuleBuilderOptions<T, int> ValidListLimit<T>(this IRuleBuilder<T, int> rule) =>
        rule.InclusiveBetween(1, MaxListLimit);

    public static IRuleBuilderOptions<T, string?> ValidCursor<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Must(c => c is null || KeysetCursor.TryDecode(c, out _)).WithMessage("'cursor' is not a cursor this API returned.");

    public static IRuleBuilderOptions<T, string?> OneOf<T>(this IRuleBuilder<T, string?> rule, IReadOnlyCollection<string> allowed) =>
        rule.Must(value => value is null || allowed.Contains(value))
            .WithMessage($"'{{PropertyName}}' must be one of {string.Join(", ", allowed)}.");
}
