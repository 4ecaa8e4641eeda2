namespace ContentPlanning.Api.Features.Shared;

/// <summary>A content strategy as every endpoint returns it: all fields plus completion and timestamps.</summary>
public sealed class Strategy : StrategyFields
{
    public long Id { get; set; }
    public string UserId { get; set; } = "";
    public float CompletionPercentage { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>SELECT list of every strategy column, for queries aliasing content_strategies as <c>s</c>.</summary>
    internal static readonly string SelectColumns =
        "s.id, s.user_id, " + string.Join(", ", Columns.Select(c => "s." + c)) + ", s.completion_percentage, s.created_at, s.updated_at";
}

/// <summary>A strategy's activation state (strategy_activation_status), null when it was never activated.</summary>
public sealed record Activation(string Status, DateTimeOffset? ActivationDate, float? PerformanceScore);
