using System.Text.Json;
using ContentPlanning.Api.Features.CalendarEvents;
using ContentPlanning.Api.Tests.Infrastructure;
using Dapper;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarEvents;

/// <summary>
/// Issue 22 (how cost grows with the work): a user's page of events must cost that user's events, not the whole table.
/// With 1 000 000 events the list by user_id answered in ~0.8 s, reading every event through a filter. The planner
/// prefers a sequential scan on a small test table whatever the query, so sequential scans are switched off here: a query
/// that can use an index condition then shows it, one that cannot falls back to a full scan of some index.
/// </summary>
public sealed class ListCalendarEventsPlanTests : DatabaseTest
{
    [TestCase(false, null, TestName = "ListingAUsersEventsIsAnIndexConditionOnTheirStrategies")]
    [TestCase(true, null, TestName = "ASecondPageOfAUsersEventsIsAnIndexConditionOnTheirStrategies")]
    [TestCase(false, "scheduled", TestName = "AUsersEventsFilteredByStatusAreAnIndexConditionOnTheirStrategies")]
    public async Task EveryCalendarEventsScanHasAnIndexCondition(bool secondPage, string? status)
    {
        foreach (var user in new[] { "plan-a", "plan-b" })
        {
            var strategyId = await SeedStrategyAsync(user);
            await Testing.ExecuteAsync("""
                INSERT INTO calendar_events (strategy_id, title, scheduled_at, status)
                SELECT @strategyId, 'Post ' || k, now() + k * interval '1 hour', 'scheduled' FROM generate_series(1, 30) k
                """, new { strategyId });
        }

        await using var connection = await Testing.DataSource.OpenConnectionAsync();
        await using var transaction = await connection.BeginTransactionAsync();
        await connection.ExecuteAsync("SET LOCAL enable_seqscan = off", transaction: transaction);
        // The parameters as the handler sends them.
        var plan = await connection.QuerySingleAsync<string>("EXPLAIN (FORMAT JSON) " + ListCalendarEvents.Handler.Sql, new
        {
            UserId = "plan-a",
            CalendarId = (long?)null,
            StrategyId = (long?)null,
            Status = status,
            Platform = (string?)null,
            From = (DateTimeOffset?)null,
            To = (DateTimeOffset?)null,
            HasCursor = secondPage,
            CursorAt = DateTimeOffset.UtcNow.AddHours(5),
            CursorId = 1L,
            Take = 21,
        }, transaction);

        using var document = JsonDocument.Parse(plan);
        var scans = Nodes(document.RootElement[0].GetProperty("Plan"))
            .Where(n => n.TryGetProperty("Relation Name", out var relation) && relation.GetString() == "calendar_events")
            .Select(n => (Type: n.GetProperty("Node Type").GetString(), Bounded: n.TryGetProperty("Index Cond", out _) || n.TryGetProperty("Recheck Cond", out _)))
            .ToList();
        Assert.That(scans, Is.Not.Empty, plan);
        Assert.That(scans, Has.All.Matches<(string? Type, bool Bounded)>(s => s.Type != "Seq Scan" && s.Bounded), plan);
    }

    private static IEnumerable<JsonElement> Nodes(JsonElement node) =>
        node.TryGetProperty("Plans", out var children)
            ? children.EnumerateArray().SelectMany(Nodes).Prepend(node)
            : [node];
}
