using System.Text.Json.Nodes;

namespace ContentPlanning.Api.Features.Analytics;

/// <summary>One performance measurement of a user's content on a platform (content_analytics), as every endpoint returns it.</summary>
public sealed class AnalyticsRecord
{
    public long Id { get; set; }
    public string UserId { get; set; } = "";
    public long? StrategyId { get; set; }
    public long? EventId { get; set; }
    public string Platform { get; set; } = "";
    public JsonNode? Metrics { get; set; }
    public float? PerformanceScore { get; set; }
    public DateTimeOffset RecordedAt { get; set; }

    internal const string SelectColumns = "id, user_id, strategy_id, event_id, platform, metrics, performance_score, recorded_at";
}
