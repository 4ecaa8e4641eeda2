using Dapper;
using Npgsql;
using static ContentPlanning.Api.Features.GetStrategySummary.GetStrategySummary;

namespace ContentPlanning.Api.Features.GetStrategySummary;

/// <summary>The summary's one round trip: seven statements sent as one batch, read in order.</summary>
internal static class SummaryQuery
{
    private const string Sql = """
        SELECT id, name, user_id, completion_percentage FROM content_strategies WHERE id = @Id;

        SELECT status, activation_date AS since, performance_score FROM strategy_activation_status WHERE strategy_id = @Id;

        SELECT status AS key, count(*)::int AS count FROM calendar_events WHERE strategy_id = @Id GROUP BY status;

        SELECT id, title, scheduled_at, platform, content_type, pillar, calendar_id
        FROM calendar_events
        WHERE strategy_id = @Id AND status = 'scheduled' AND scheduled_at >= now()
        ORDER BY scheduled_at, id
        LIMIT @Upcoming;

        SELECT status, priority, count(*)::int AS count FROM content_recommendations WHERE strategy_id = @Id GROUP BY status, priority;

        SELECT a.platform, count(*)::int AS records, count(a.performance_score)::int AS scored_records,
               avg(a.performance_score)::float8 AS average_score,
               -- A total past the largest double (each record's value is a finite double, their sum need not be)
               -- saturates at +-1.7976931348623157e308, so the answer stays a JSON number a client can read.
               (SELECT jsonb_object_agg(m.key, least(greatest(m.total, -1.7976931348623157e308), 1.7976931348623157e308))
                FROM (SELECT e.key, sum((e.value #>> '{}')::numeric) AS total
                      FROM content_analytics x, jsonb_each(CASE WHEN jsonb_typeof(x.metrics) = 'object' THEN x.metrics ELSE '{}' END) e
                      WHERE x.strategy_id = @Id AND x.platform = a.platform AND jsonb_typeof(e.value) = 'number'
                      GROUP BY e.key) m)::text AS metrics
        FROM content_analytics a
        WHERE a.strategy_id = @Id
        GROUP BY a.platform
        ORDER BY a.platform;

        SELECT id, calendar_type, start_date, end_date, created_at,
               CASE WHEN jsonb_typeof(result -> 'quality_score') = 'number' THEN (result ->> 'quality_score')::float8 END AS quality_score
        FROM generated_calendars
        WHERE strategy_id = @Id
        ORDER BY created_at DESC, id DESC
        LIMIT 1;
        """;

    public static async Task<Summary?> LoadAsync(NpgsqlDataSource dataSource, long id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(Sql, new { Id = id, Upcoming = UpcomingCount },
            cancellationToken: cancellationToken));

        var strategy = await grid.ReadSingleOrDefaultAsync<StrategyPart>();
        var activation = await grid.ReadSingleOrDefaultAsync<ActivationRow>();
        var eventCounts = (await grid.ReadAsync<CountRow>()).ToList();
        var upcoming = (await grid.ReadAsync<UpcomingEvent>()).AsList();
        var recommendationCounts = (await grid.ReadAsync<RecommendationCountRow>()).ToList();
        var platforms = (await grid.ReadAsync<PlatformRow>()).ToList();
        var calendar = await grid.ReadSingleOrDefaultAsync<CalendarRow>();
        if (strategy is null)
        {
            return null;
        }

        var records = platforms.Sum(p => p.Records);
        // Weighted by each platform's scored rows, this is the average over every scored row of the strategy.
        var scoredRecords = platforms.Sum(p => p.ScoredRecords);
        double? average = scoredRecords == 0 ? null : platforms.Sum(p => (p.AverageScore ?? 0) * p.ScoredRecords) / scoredRecords;

        return new Summary(
            strategy,
            activation is null ? null : new ActivationPart(activation.Status, activation.Since, activation.PerformanceScore),
            new EventsPart(eventCounts.Sum(c => c.Count), eventCounts.ToDictionary(c => c.Key, c => c.Count), upcoming),
            new RecommendationsPart(
                recommendationCounts.Sum(c => c.Count),
                recommendationCounts.GroupBy(c => c.Status).ToDictionary(g => g.Key, g => g.Sum(c => c.Count)),
                recommendationCounts.GroupBy(c => c.Priority).ToDictionary(g => g.Key, g => g.Sum(c => c.Count))),
            new AnalyticsPart(records, average, platforms.ToDictionary(p => p.Platform, p => new PlatformTotals(p.Records, ParseTotals(p.Metrics)))),
            calendar is null ? null : new CalendarPart(calendar.Id, calendar.CalendarType, calendar.StartDate, calendar.EndDate, calendar.QualityScore, calendar.CreatedAt));
    }

    private static Dictionary<string, double> ParseTotals(string? json)
    {
        if (json is null)
        {
            return [];
        }

        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(
            p => p.Name, p => p.Value.TryGetDouble(out var total) && double.IsFinite(total) ? total : p.Value.GetRawText().StartsWith('-') ? double.MinValue : double.MaxValue,
            StringComparer.Ordinal);
    }

    private sealed record ActivationRow(string Status, DateTimeOffset? Since, float? PerformanceScore);

    private sealed record CountRow(string Key, int Count);

    private sealed record RecommendationCountRow(string Status, string Priority, int Count);

    private sealed record PlatformRow(string Platform, int Records, int ScoredRecords, double? AverageScore, string? Metrics);

    private sealed record CalendarRow(long Id, string CalendarType, DateOnly StartDate, DateOnly EndDate, DateTimeOffset CreatedAt, double? QualityScore);
}
