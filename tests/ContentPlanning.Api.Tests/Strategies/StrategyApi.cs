using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace ContentPlanning.Api.Tests.Strategies;

/// <summary>The strategy endpoints as a client calls them: snake_case JSON over HTTP, answers read as JSON nodes.</summary>
internal static class StrategyApi
{
    public const string Root = "/api/content-planning";

    public static string ActiveStrategy(string userId, bool forceRefresh = false) =>
        $"{Root}/users/{Uri.EscapeDataString(userId)}/active-strategy" + (forceRefresh ? "?force_refresh=true" : "");

    /// <summary>Creates a strategy (201 expected) and returns it as the API answered.</summary>
    public static async Task<JsonObject> CreateAsync(HttpClient client, string userId, string name, JsonObject? fields = null)
    {
        var body = fields?.DeepClone().AsObject() ?? [];
        body["user_id"] = userId;
        body["name"] = name;
        using var response = await client.PostJsonAsync($"{Root}/strategies", body);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        return await ReadAsync(response);
    }

    public static async Task<long> CreateIdAsync(HttpClient client, string userId, string name, JsonObject? fields = null) =>
        (await CreateAsync(client, userId, name, fields))["id"]!.GetValue<long>();

    /// <summary>Inserts a strategy row directly, to control created_at (ties) or jsonb values the API would not produce.</summary>
    public static Task<long> InsertAsync(string userId, string name, DateTimeOffset createdAt, string? analysisJson = null) =>
        Testing.ScalarAsync<long>(
            """
            INSERT INTO content_strategies (user_id, name, created_at, updated_at, comprehensive_ai_analysis)
            VALUES (@userId, @name, @createdAt, @createdAt, CAST(@analysisJson AS jsonb))
            RETURNING id
            """,
            new { userId, name, createdAt = createdAt.UtcDateTime, analysisJson });

    public static async Task<JsonObject> ActivateAsync(HttpClient client, long id, string action = "activate")
    {
        using var response = await client.PostAsync($"{Root}/strategies/{id}/{action}", null);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await ReadAsync(response);
    }

    /// <summary>GET active-strategy, expecting 200.</summary>
    public static async Task<JsonObject> GetActiveAsync(HttpClient client, string userId, bool forceRefresh = false)
    {
        using var response = await client.GetAsync(ActiveStrategy(userId, forceRefresh));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await ReadAsync(response);
    }

    public static long StrategyId(JsonObject activeStrategy) => activeStrategy["strategy"]!["id"]!.GetValue<long>();

    public static string Source(JsonObject activeStrategy) => activeStrategy["cache_info"]!["source"]!.GetValue<string>();

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<JsonObject>())!;

    public static StringContent Body(JsonNode body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    public static async Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, JsonNode body)
    {
        using var content = Body(body);
        return await client.PostAsync(url, content);
    }

    public static async Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, JsonNode body)
    {
        using var content = Body(body);
        return await client.PutAsync(url, content);
    }

    /// <summary>Every one of the 28 strategic inputs filled, plus every other writable field.</summary>
    public static JsonObject EveryField() => new()
    {
        ["industry"] = "Software",
        ["business_objectives"] = new JsonArray("grow organic traffic", "launch a newsletter"),
        ["target_metrics"] = new JsonObject { ["monthly_visits"] = 50000, ["leads"] = 300 },
        ["content_budget"] = 12500.5m,
        ["team_size"] = 7,
        ["implementation_timeline"] = "6 months",
        ["market_share"] = "4%",
        ["competitive_position"] = "challenger",
        ["performance_metrics"] = new JsonObject { ["traffic"] = 1200 },
        ["content_preferences"] = new JsonArray("long-form", "video"),
        ["consumption_patterns"] = new JsonObject { ["peak"] = "mornings" },
        ["audience_pain_points"] = new JsonArray("no time"),
        ["buying_journey"] = new JsonObject { ["stages"] = new JsonArray("awareness", "decision") },
        ["seasonal_trends"] = new JsonArray("Q4 peak"),
        ["engagement_metrics"] = new JsonObject { ["avg_time_on_page"] = 95.5 },
        ["top_competitors"] = new JsonArray("Acme", "Globex"),
        ["competitor_content_strategies"] = new JsonObject { ["Acme"] = "weekly webinars" },
        ["market_gaps"] = new JsonArray("developer tutorials"),
        ["industry_trends"] = new JsonArray("AI search"),
        ["emerging_trends"] = new JsonArray("short video"),
        ["preferred_formats"] = new JsonArray("blog", "podcast"),
        ["content_mix"] = new JsonObject { ["blog"] = 60, ["video"] = 40 },
        ["content_frequency"] = "weekly",
        ["optimal_timing"] = new JsonObject { ["day"] = "tuesday", ["hour"] = 9 },
        ["quality_metrics"] = new JsonObject { ["readability"] = "grade 8" },
        ["editorial_guidelines"] = new JsonObject { ["tone"] = "plain" },
        ["brand_voice"] = new JsonObject { ["personality"] = new JsonArray("helpful", "direct") },
        ["traffic_sources"] = new JsonObject { ["organic"] = 0.7 },
        ["conversion_rates"] = new JsonObject { ["signup"] = 0.031 },
        ["content_roi_targets"] = new JsonObject { ["roi"] = 3 },
        ["ab_testing_capabilities"] = true,
        ["target_audience"] = new JsonObject { ["role"] = "engineering managers" },
        ["content_pillars"] = new JsonArray("reliability", "speed"),
        ["comprehensive_ai_analysis"] = new JsonObject
        {
            ["summary"] = "Strong technical niche",
            ["scores"] = new JsonObject { ["seo"] = 0.82, ["nested"] = new JsonArray(1, 2, new JsonObject { ["deep"] = true }) },
        },
    };
}
