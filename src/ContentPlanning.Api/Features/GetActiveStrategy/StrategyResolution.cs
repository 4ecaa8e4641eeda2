using ContentPlanning.Api.Features.Shared;
using Dapper;

namespace ContentPlanning.Api.Features.GetActiveStrategy;

/// <summary>
/// Which strategy a user's planning works from: the active one; else the most recent with an AI analysis; else the
/// most recent of any kind (by created_at, ties to the higher id). With a strategy id, that strategy if it is the user's.
/// One statement, so it can join a batch (the comprehensive data's read joins it).
/// </summary>
public static class StrategyResolution
{
    public const string Active = "active";
    public const string FallbackMostRecentAnalyzed = "fallback_most_recent_analyzed";
    public const string FallbackMostRecent = "fallback_most_recent";
    public const string Requested = "requested";

    private const string Analyzed = "(s.comprehensive_ai_analysis IS NOT NULL AND jsonb_typeof(s.comprehensive_ai_analysis) <> 'null')";

    /// <summary>Parameters: <c>@UserId</c> (text) and <c>@StrategyId</c> (bigint, null for "resolve").</summary>
    public static readonly string Sql = Build(condition: "TRUE");

    /// <summary>The same statement with an extra SQL condition, for batches that read it only when needed.</summary>
    public static string Build(string condition) => $"""
        SELECT {Strategy.SelectColumns},
               CASE WHEN @StrategyId::bigint IS NOT NULL THEN '{Requested}'
                    WHEN a.status = 'active' THEN '{Active}'
                    WHEN {Analyzed} THEN '{FallbackMostRecentAnalyzed}'
                    ELSE '{FallbackMostRecent}' END AS resolution,
               a.status, a.activation_date, a.performance_score
        FROM content_strategies s
        LEFT JOIN strategy_activation_status a ON a.strategy_id = s.id
        WHERE s.user_id = @UserId AND (@StrategyId::bigint IS NULL OR s.id = @StrategyId) AND {condition}
        ORDER BY (a.status = 'active') IS TRUE DESC, {Analyzed} DESC, s.created_at DESC, s.id DESC
        LIMIT 1;
        """;

    public sealed record Resolved(Strategy Strategy, string Resolution, Activation? Activation);

    /// <summary>
    /// Reads the statement's result from a batch. Dapper's grid has no asynchronous multi-mapping; the batch's
    /// results are already on the wire, so this reads buffered rows.
    /// </summary>
    public static Resolved? Read(SqlMapper.GridReader grid) =>
        grid.Read<Strategy, Row, Resolved>(Map, splitOn: "resolution").SingleOrDefault();

    public static async Task<Resolved?> QueryAsync(System.Data.Common.DbConnection connection, string userId, long? strategyId, CancellationToken cancellationToken) =>
        (await connection.QueryAsync<Strategy, Row, Resolved>(
            new CommandDefinition(Sql, new { UserId = userId, StrategyId = strategyId }, cancellationToken: cancellationToken),
            Map, splitOn: "resolution")).SingleOrDefault();

    private static Resolved Map(Strategy strategy, Row row) =>
        new(strategy, row.Resolution, row.Status is null ? null : new Activation(row.Status, row.ActivationDate, row.PerformanceScore));

    private sealed class Row
    {
        public string Resolution { get; set; } = "";
        public string? Status { get; set; }
        public DateTimeOffset? ActivationDate { get; set; }
        public float? PerformanceScore { get; set; }
    }
}
