using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Calendars;

public sealed class GetCalendarTests : DatabaseTest
{
    [Test]
    public async Task AnEventAddedByHandReadsBackAsAPieceOfItsWeek()
    {
        // Found by the issue-21 sweep: a manual event has no plan fields, and the calendar answered nulls its schema forbids.
        var strategyId = await SeedStrategyAsync("cal-manual");
        using var client = Testing.CreateClient();
        using var generated = await client.PostJsonAsync(ApiRoot + "/calendar-generation/generate-calendar",
            """{"user_id": "cal-manual", "calendar_type": "monthly", "start_date": "2026-03-02", "timezone": "Europe/Berlin"}""");
        Assert.That(generated.StatusCode, Is.EqualTo(HttpStatusCode.Created), await generated.Content.ReadAsStringAsync());
        var calendar = await JsonAsync(generated);
        var id = calendar.GetProperty("id").GetInt64();
        using var created = await client.PostJsonAsync(ApiRoot + "/calendar-events",
            $$"""{"strategy_id": {{strategyId}}, "calendar_id": {{id}}, "title": "By hand", "scheduled_at": "2026-03-10T10:00:00Z"}""");
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());

        using var read = await client.GetAsync($"{ApiRoot}/calendars/{id}");

        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK), await read.Content.ReadAsStringAsync());
        var piece = (await JsonAsync(read)).GetProperty("daily_schedule").EnumerateArray().Single(p => p.GetProperty("title").GetString() == "By hand");
        Assert.Multiple(() =>
        {
            Assert.That(piece.GetProperty("week_number").GetInt32(), Is.EqualTo(2));
            Assert.That(piece.GetProperty("weekly_theme").GetString(), Is.EqualTo(calendar.GetProperty("weekly_themes")[1].GetProperty("theme").GetString()));
            Assert.That(piece.GetProperty("key_message").GetString(), Is.Empty);
            Assert.That(piece.GetProperty("posting_time").GetString(), Is.EqualTo("2026-03-10T11:00:00+01:00"));
        });
    }
}
