using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

/// <summary>
/// Reads comprehensive data over HTTP and writes its source rows straight into PostgreSQL (the source-data slices are
/// tested elsewhere; here they are only the input).
/// </summary>
internal static class ComprehensiveApi
{
    public const string UserDataPath = "/api/content-planning/calendar-generation/comprehensive-user-data";
    public const string CacheRoot = "/api/content-planning/calendar-generation/cache";

    public static string Url(string userId, long? strategyId = null, bool forceRefresh = false) =>
        $"{UserDataPath}?user_id={Uri.EscapeDataString(userId)}"
        + (strategyId is null ? "" : $"&strategy_id={strategyId}")
        + (forceRefresh ? "&force_refresh=true" : "");

    /// <summary>GETs the user's comprehensive data and fails the test unless the answer is 200.</summary>
    public static async Task<JsonNode> GetAsync(HttpClient client, string userId, long? strategyId = null, bool forceRefresh = false)
    {
        using var response = await client.GetAsync(Url(userId, strategyId, forceRefresh));
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonNode.Parse(body)!;
    }

    public static string Source(JsonNode answer) => answer["cache_info"]!["source"]!.GetValue<string>();

    public static string DataHash(JsonNode answer) => answer["cache_info"]!["data_hash"]!.GetValue<string>();

    public static HttpClient CreateAdminClient(ApiFactory factory)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        return client;
    }

    public static async Task<JsonNode> StatsAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync($"{CacheRoot}/stats");
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonNode.Parse(body)!;
    }

    public static Task InsertProfileAsync(string userId, string industry = "technology", string? postingPreferences = """{"daily": 1, "weekly": 4, "monthly": 16}""") =>
        Testing.ExecuteAsync("""
            INSERT INTO user_profiles (user_id, industry, business_size, target_audience, writing_tone, writing_voice, content_types,
                                       brand_values, platform_preferences, posting_preferences, posting_days, optimal_times)
            VALUES (@userId, @industry, 'smb', '{"roles": ["CTO"]}', 'professional', 'expert', '["blog", "video"]', '["clarity"]',
                    '{"linkedin": {"priority": "high", "content_focus": "thought leadership"}}', @postingPreferences::jsonb,
                    '["monday", "friday"]', '["09:00"]')
            """, new { userId, industry, postingPreferences });

    public static Task<long> InsertStrategyAsync(string userId, string name, bool active = false) =>
        Testing.ScalarAsync<long>("""
            WITH s AS (
                INSERT INTO content_strategies (user_id, name, industry, business_objectives)
                VALUES (@userId, @name, 'technology', '["grow qualified leads"]') RETURNING id),
            a AS (
                INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date)
                SELECT id, @userId, 'active', now() FROM s WHERE @active)
            SELECT id FROM s
            """, new { userId, name, active });

    public static Task<long> InsertGapAnalysisAsync(string userId, string contentGaps = """["no case studies"]""", int daysAgo = 0) =>
        Testing.ScalarAsync<long>("""
            INSERT INTO content_gap_analyses (user_id, website_url, analysis_results, recommendations, opportunities, created_at)
            VALUES (@userId, 'https://example.com', jsonb_build_object('content_gaps', @contentGaps::jsonb, 'keyword_opportunities', '["kw"]'::jsonb),
                    '["publish case studies"]', '["video"]', now() - make_interval(days => @daysAgo))
            RETURNING id
            """, new { userId, contentGaps, daysAgo });

    public static Task<long> InsertRecommendationAsync(string userId, string title, string priority = "medium") =>
        Testing.ScalarAsync<long>("""
            INSERT INTO content_recommendations (user_id, recommendation_type, title, priority)
            VALUES (@userId, 'blog_post', @title, @priority) RETURNING id
            """, new { userId, title, priority });

    public static Task InsertAnalyticsAsync(string userId, string platform, string metrics = """{"views": 100, "likes": 5}""", float? score = 0.5f) =>
        Testing.ExecuteAsync("""
            INSERT INTO content_analytics (user_id, platform, metrics, performance_score)
            VALUES (@userId, @platform, @metrics::jsonb, @score)
            """, new { userId, platform, metrics, score });

    /// <summary>A user with every section filled: profile, an active strategy, a gap analysis, a recommendation, analytics.</summary>
    public static async Task<long> SeedCompleteUserAsync(string userId)
    {
        await InsertProfileAsync(userId);
        var strategyId = await InsertStrategyAsync(userId, "Main", active: true);
        await InsertGapAnalysisAsync(userId);
        await InsertRecommendationAsync(userId, "Write a case study", "high");
        await InsertAnalyticsAsync(userId, "linkedin");
        return strategyId;
    }
}
