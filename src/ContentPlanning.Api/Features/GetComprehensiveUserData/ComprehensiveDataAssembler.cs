using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.GetActiveStrategy;
using ContentPlanning.Api.Features.Shared;
using Dapper;
using Npgsql;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// Reads the snapshot row and, when it does not serve, assembles comprehensive data from the source tables, all in ONE
/// batched multi-statement round trip, however many rows each section has (no N+1). Sections that have no rows are returned empty and named in data_quality.missing_sections.
/// </summary>
internal static class ComprehensiveDataAssembler
{
    private const int MaxGapAnalyses = 50;
    private const int MaxRecommendations = 200;

    // The user's source version, bumped by triggers on every source table, and the data_hash it gives.
    private const string SourceVersion = "COALESCE((SELECT version FROM user_data_versions WHERE user_id = @UserId), 0)";

    private const string DataHash = $$"""
        encode(sha256(convert_to(@UserId || E'\n' || COALESCE(@StrategyId::bigint::text, 'resolved') || E'\n' || {{SourceVersion}}::text, 'UTF8')), 'hex')
        """;

    // Whether the snapshot row answers this read: unexpired and hashed from the current source version.
    private const string SnapshotServes = $$"""
        (@UseSnapshot AND EXISTS (
            SELECT 1 FROM comprehensive_user_data_cache c
            WHERE c.user_id = @UserId AND c.strategy_id IS NOT DISTINCT FROM @StrategyId
              AND c.expires_at > now() AND c.data_hash = {{DataHash}}))
        """;

    // One round trip in one REPEATABLE READ snapshot: the snapshot row and, only when it does not serve, every source
    // section (each statement is guarded by the same condition, which all of them see alike).
    private static readonly string Sql = $$"""
        BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;

        SELECT {{DataHash}} AS data_hash, {{SnapshotServes}} AS serves, c.comprehensive_data, c.created_at
        FROM (SELECT 1) AS one
        LEFT JOIN comprehensive_user_data_cache c ON c.user_id = @UserId AND c.strategy_id IS NOT DISTINCT FROM @StrategyId;

        SELECT industry, business_size, target_audience, writing_tone, writing_voice, content_types, brand_values,
               platform_preferences, posting_preferences, posting_days, optimal_times, updated_at
        FROM user_profiles WHERE user_id = @UserId AND NOT {{SnapshotServes}};

        {{StrategyResolution.Build("NOT " + SnapshotServes)}}

        SELECT analysis_results, recommendations, opportunities, updated_at
        FROM content_gap_analyses WHERE user_id = @UserId AND NOT {{SnapshotServes}}
        ORDER BY created_at DESC, id DESC LIMIT {{MaxGapAnalyses}};

        SELECT id, strategy_id, recommendation_type, title, description, target_keywords, estimated_length, priority,
               platforms, status, created_at, updated_at
        FROM content_recommendations WHERE user_id = @UserId AND NOT {{SnapshotServes}}
        ORDER BY CASE priority WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, created_at DESC, id DESC
        LIMIT {{MaxRecommendations}};

        WITH totals AS (
            SELECT ca.platform, kv.key, sum((kv.value #>> '{}')::numeric) AS total
            FROM content_analytics ca
            -- metrics written directly in SQL may be any JSON; only an object's numeric members are totalled
            CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(ca.metrics) = 'object' THEN ca.metrics ELSE '{}'::jsonb END) kv
            WHERE ca.user_id = @UserId AND jsonb_typeof(kv.value) = 'number'
            GROUP BY ca.platform, kv.key)
        SELECT ca.platform, count(*) AS posts, avg(ca.performance_score)::float8 AS avg_performance_score,
               max(ca.recorded_at) AS updated_at,
               -- A total past the largest double saturates (issue 21 item 4): answers stay numbers a client reads as finite.
               COALESCE((SELECT jsonb_object_agg(t.key, least(greatest(t.total, -1.7976931348623157e308), 1.7976931348623157e308))
                         FROM totals t WHERE t.platform = ca.platform), '{}'::jsonb) AS totals
        FROM content_analytics ca WHERE ca.user_id = @UserId AND NOT {{SnapshotServes}}
        GROUP BY ca.platform ORDER BY ca.platform;

        COMMIT;
        """;

    /// <summary>What one read found: the data_hash of the current sources, and either the serving snapshot row or the assembled data.</summary>
    public sealed record Result(string DataHash, SnapshotRow? Snapshot, ComprehensiveData? Data);

    public sealed record SnapshotRow(string ComprehensiveData, DateTimeOffset CreatedAt);

    private sealed record HeadRow(string DataHash, bool Serves, string? ComprehensiveData, DateTimeOffset? CreatedAt);

    /// <summary>
    /// One round trip. With <paramref name="useSnapshot"/> and a valid snapshot row, returns that row and reads no source;
    /// otherwise assembles (Data is null when the user has neither a profile nor a strategy, or the strategy is not theirs).
    /// </summary>
    public static async Task<Result> ReadAsync(NpgsqlConnection connection, string userId, long? strategyId, bool useSnapshot, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(
            Sql, new { UserId = userId, StrategyId = strategyId, UseSnapshot = useSnapshot }, cancellationToken: cancellationToken));
        var head = await grid.ReadSingleAsync<HeadRow>();
        if (head.Serves && head.ComprehensiveData is not null && head.CreatedAt is { } createdAt)
        {
            // The source statements returned nothing; read them to the end anyway, because a grid disposed early
            // cancels its command, which costs a cancel request on a new connection and can abort the COMMIT.
            while (!grid.IsConsumed)
            {
                await grid.ReadAsync();
            }

            return new Result(head.DataHash, new SnapshotRow(head.ComprehensiveData, createdAt), null);
        }

        return new Result(head.DataHash, null, await AssembleAsync(grid, userId, strategyId, time));
    }

    private static async Task<ComprehensiveData?> AssembleAsync(SqlMapper.GridReader grid, string userId, long? strategyId, TimeProvider time)
    {
        var profile = await grid.ReadSingleOrDefaultAsync<ProfileRow>();
        var strategy = StrategyResolution.Read(grid);
        var gaps = (await grid.ReadAsync<GapRow>()).ToList();
        var recommendations = (await grid.ReadAsync<RecommendationRow>()).ToList();
        var performance = (await grid.ReadAsync<PerformanceRow>()).ToList();

        if (strategy is null && (strategyId is not null || profile is null))
        {
            return null;
        }

        var missing = new List<string>();
        if (profile is null) missing.Add("onboarding_data");
        if (strategy is null) missing.Add("strategy_data");
        if (gaps.Count == 0) missing.Add("gap_analysis");
        if (recommendations.Count == 0) missing.Add("recommendations_data");
        if (performance.Count == 0) missing.Add("performance_data");

        var newest = new DateTimeOffset?[] { profile?.UpdatedAt, strategy?.Strategy.UpdatedAt }
            .Concat(gaps.Select(g => (DateTimeOffset?)g.UpdatedAt))
            .Concat(recommendations.Select(r => (DateTimeOffset?)r.UpdatedAt))
            .Concat(performance.Select(p => (DateTimeOffset?)p.UpdatedAt))
            .Max();

        return new ComprehensiveData(
            userId,
            profile?.ToOnboarding(),
            strategy is null ? null : new StrategyData(strategy.Strategy, strategy.Resolution, strategy.Activation),
            MergeGaps(gaps),
            recommendations.Select(r => r.ToData()).ToList(),
            performance.ToDictionary(p => p.Platform, p => new PlatformPerformance(p.Posts, p.AvgPerformanceScore, p.Totals), StringComparer.Ordinal),
            profile?.Industry ?? strategy?.Strategy.Industry ?? Derived.DefaultIndustry,
            profile?.TargetAudience ?? strategy?.Strategy.TargetAudience?.DeepClone(),
            strategy?.Strategy.BusinessObjectives?.DeepClone(),
            Derived.PlatformPreferences(profile?.PlatformPreferences, profile?.PostingPreferences),
            new DataQuality(
                Math.Round((5 - missing.Count) / 5.0, 2),
                newest is null ? null : Math.Round((time.GetUtcNow() - newest.Value).TotalDays, 2),
                missing));
    }

    // Newest analysis first; equal items (by JSON text) are kept once. analysis_results may be any JSON: only an object has sections.
    private static GapAnalysisData MergeGaps(List<GapRow> gaps)
    {
        List<JsonNode?> Collect(Func<GapRow, JsonNode?> section)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            var merged = new List<JsonNode?>();
            foreach (var node in gaps.Select(section).Where(n => n is not null))
            {
                foreach (var item in node is JsonArray array ? array.ToList() : [node])
                {
                    if (item is not null && seen.Add(item.ToJsonString()))
                    {
                        merged.Add(item.DeepClone());
                    }
                }
            }

            return merged;
        }

        return new GapAnalysisData(
            Collect(g => (g.AnalysisResults as JsonObject)?["content_gaps"]),
            Collect(g => (g.AnalysisResults as JsonObject)?["keyword_opportunities"]),
            Collect(g => (g.AnalysisResults as JsonObject)?["competitor_insights"]),
            Collect(g => g.Recommendations),
            Collect(g => g.Opportunities),
            gaps.Count);
    }

    private sealed record ProfileRow(
        string? Industry, string? BusinessSize, JsonNode? TargetAudience, string? WritingTone, string? WritingVoice,
        JsonNode? ContentTypes, JsonNode? BrandValues, JsonNode? PlatformPreferences, JsonNode? PostingPreferences,
        JsonNode? PostingDays, JsonNode? OptimalTimes, DateTimeOffset UpdatedAt)
    {
        public OnboardingData ToOnboarding()
        {
            var posting = PostingPreferences as JsonObject;
            return new(
                Industry, BusinessSize, TargetAudience, WritingTone, WritingVoice, ContentTypes, BrandValues, PlatformPreferences,
                new PostingPreferences(posting?["daily"]?.DeepClone(), posting?["weekly"]?.DeepClone(), posting?["monthly"]?.DeepClone()),
                PostingDays, OptimalTimes);
        }
    }

    private sealed record GapRow(JsonNode? AnalysisResults, JsonNode? Recommendations, JsonNode? Opportunities, DateTimeOffset UpdatedAt);

    private sealed record RecommendationRow(
        long Id, long? StrategyId, string RecommendationType, string Title, string? Description, JsonNode? TargetKeywords,
        string? EstimatedLength, string Priority, JsonNode? Platforms, string Status, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
    {
        public RecommendationData ToData() =>
            new(Id, StrategyId, RecommendationType, Title, Description, TargetKeywords, EstimatedLength, Priority, Platforms, Status, CreatedAt);
    }

    private sealed record PerformanceRow(string Platform, long Posts, double? AvgPerformanceScore, DateTimeOffset UpdatedAt, JsonNode? Totals);
}
