using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarEvents;

/// <summary>
/// Issue 21 item 2: calendar-event data per user is bounded: description length, events per calendar, and the events'
/// bytes count in the user's byte bound (Database__MaxUserSourceBytes) with the source data.
/// </summary>
public sealed class CalendarEventLimitsTests : DatabaseTest
{
    private const string Url = ApiRoot + "/calendar-events";

    [Test]
    public async Task ADescriptionOverTenThousandCharactersIsA400AndWritesNothing()
    {
        var strategyId = await SeedStrategyAsync("ev-long");
        var eventId = await SeedEventAsync(strategyId);
        using var client = Testing.CreateClient();
        var description = new string('d', 10_001);

        using var created = await client.PostJsonAsync(Url,
            $$"""{"strategy_id": {{strategyId}}, "title": "t", "scheduled_at": "2026-03-02T09:00:00Z", "description": "{{description}}"}""");
        using var updated = await client.PutJsonAsync($"{Url}/{eventId}",
            $$"""{"title": "t", "scheduled_at": "2026-03-02T09:00:00Z", "status": "draft", "description": "{{description}}"}""");

        Assert.Multiple(async () =>
        {
            Assert.That(await ValidationErrorFieldsAsync(created), Does.Contain("description"));
            Assert.That(await ValidationErrorFieldsAsync(updated), Does.Contain("description"));
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events WHERE strategy_id = @strategyId", new { strategyId }), Is.EqualTo(1));
            Assert.That(await Testing.ScalarAsync<string?>("SELECT description FROM calendar_events WHERE id = @eventId", new { eventId }), Is.Null);
        });
    }

    [Test]
    public async Task ACalendarHoldsAtMostTenThousandEvents()
    {
        var strategyId = await SeedStrategyAsync("ev-full");
        var calendarId = await Testing.ScalarAsync<long>("""
            INSERT INTO generated_calendars (user_id, strategy_id, calendar_type, start_date, end_date, request)
            VALUES ('ev-full', @strategyId, 'weekly', '2026-03-02', '2026-03-08', '{}') RETURNING id
            """, new { strategyId });
        await Testing.ExecuteAsync("""
            INSERT INTO calendar_events (strategy_id, calendar_id, title, scheduled_at)
            SELECT @strategyId, @calendarId, 'e' || g, '2026-03-02'::timestamptz + g * interval '1 minute' FROM generate_series(1, 10000) g
            """, new { strategyId, calendarId });
        using var client = Testing.CreateClient();

        using var response = await client.PostJsonAsync(Url,
            $$"""{"strategy_id": {{strategyId}}, "calendar_id": {{calendarId}}, "title": "one more", "scheduled_at": "2026-03-02T09:00:00Z"}""");

        await AssertProblemAsync(response, HttpStatusCode.Conflict);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events WHERE calendar_id = @calendarId", new { calendarId }), Is.EqualTo(10_000));
    }

    // Random GUIDs: PostgreSQL cannot compress them much, so the gap analysis's stored bytes follow its length.
    private static string Incompressible(int length) => string.Concat(Enumerable.Range(0, (length / 32) + 1).Select(_ => Guid.NewGuid().ToString("N")))[..length];

    [Test]
    public async Task CalendarEventsCountInTheUsersByteBound()
    {
        await using var node = new ApiFactory("node-event-bytes", new Dictionary<string, string?>
        {
            ["Database:MaxUserSourceBytes"] = (64 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CacheCoherence:Enabled"] = "false",
        });
        var strategyId = await SeedStrategyAsync("ev-bytes");
        using var client = node.CreateClient();
        // 9 000 characters each: 64 KiB hold seven such events, not eight.
        var description = new string('x', 9_000);
        HttpStatusCode last = default;
        var accepted = 0;
        for (var i = 0; i < 10 && last != HttpStatusCode.RequestEntityTooLarge; i++)
        {
            using var response = await client.PostJsonAsync(Url,
                $$"""{"strategy_id": {{strategyId}}, "title": "t{{i}}", "scheduled_at": "2026-03-02T09:00:00Z", "description": "{{description}}"}""");
            last = response.StatusCode;
            if (last == HttpStatusCode.Created)
            {
                accepted++;
            }
            else
            {
                await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
            }
        }

        using var analysis = await client.PostJsonAsync(ApiRoot + "/gap-analysis",
            $$$"""{"user_id": "ev-bytes", "website_url": "https://example.org", "analysis_results": {"notes": "{{{Incompressible(9_000)}}}"}}""");

        Assert.Multiple(async () =>
        {
            Assert.That(accepted, Is.EqualTo(7));
            Assert.That(last, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
            Assert.That(analysis.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge), "the events count for the source data too");
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events WHERE strategy_id = @strategyId", new { strategyId }), Is.EqualTo(7));
        });
    }
}
