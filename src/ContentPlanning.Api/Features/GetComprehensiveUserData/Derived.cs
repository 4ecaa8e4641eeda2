using System.Text.Json;
using System.Text.Json.Nodes;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// The derived members and their documented defaults: industry "general" when neither profile nor strategy names one;
/// platform preferences from the profile's platform_preferences, either an object keyed by platform (its priority,
/// content_focus, posting_frequency are used when present) or a list of platforms in order of preference (first
/// "high", second "medium", the rest "low"); content_focus defaults to "general", posting_frequency to the profile's
/// posting_preferences.weekly when set, else "weekly". A platform whose value is not an object gets every default.
/// </summary>
internal static class Derived
{
    public const string DefaultIndustry = "general";
    private const string DefaultFocus = "general";
    private const string DefaultFrequency = "weekly";

    public static IReadOnlyDictionary<string, PlatformPreference> PlatformPreferences(JsonNode? preferences, JsonNode? posting)
    {
        var weekly = (posting as JsonObject)?["weekly"];
        var frequency = weekly is JsonValue number && number.GetValueKind() == JsonValueKind.Number ? $"{number}/week" : Text(weekly) ?? DefaultFrequency;
        var result = new Dictionary<string, PlatformPreference>(StringComparer.Ordinal);
        switch (preferences)
        {
            case JsonObject byPlatform:
                foreach (var (platform, value) in byPlatform)
                {
                    var settings = value as JsonObject;
                    result[platform] = new PlatformPreference(
                        Text(settings?["priority"]) ?? "medium",
                        Text(settings?["content_focus"]) ?? DefaultFocus,
                        Text(settings?["posting_frequency"]) ?? frequency);
                }

                break;
            case JsonArray ordered:
                var rank = 0;
                foreach (var platform in ordered.Select(Text).OfType<string>())
                {
                    result.TryAdd(platform, new PlatformPreference(rank++ switch { 0 => "high", 1 => "medium", _ => "low" }, DefaultFocus, frequency));
                }

                break;
        }

        return result;
    }

    private static string? Text(JsonNode? node) => node is JsonValue value && value.GetValueKind() is JsonValueKind.String or JsonValueKind.Number
        ? value.ToString()
        : null;
}
