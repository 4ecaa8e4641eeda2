using System.Net;
using System.Text;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Calendars;

public sealed class ExportCalendarTests : DatabaseTest
{
    private static async Task<(long Id, long[] EventIds)> GenerateAsync(HttpClient client, string userId)
    {
        await Testing.ScalarAsync<long>(
            "INSERT INTO content_strategies (user_id, name, content_pillars) VALUES (@userId, 'Plan', '[\"Guides, \\\"how-to\\\"\", \"Stories\"]') RETURNING id",
            new { userId });
        using var response = await client.PostJsonAsync(ApiRoot + "/calendar-generation/generate-calendar",
            $$"""{"user_id": "{{userId}}", "calendar_type": "weekly", "start_date": "2026-03-02", "pieces_per_day": 2, "platforms": ["blog", "youtube"]}""");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var json = await JsonAsync(response);
        return (json.GetProperty("id").GetInt64(), json.GetProperty("daily_schedule").EnumerateArray().Select(p => p.GetProperty("event_id").GetInt64()).ToArray());
    }

    [Test]
    public async Task IcsParsesBackWithOneVeventPerNonCancelledEvent()
    {
        using var client = Testing.CreateClient();
        var (id, events) = await GenerateAsync(client, "exp-1");
        using var cancel = await client.PutJsonAsync($"{ApiRoot}/calendar-events/{events[0]}",
            """{"title": "Dropped", "scheduled_at": "2026-03-02T09:00:00Z", "status": "cancelled"}""");
        Assert.That(cancel.StatusCode, Is.EqualTo(HttpStatusCode.OK));

        using var export = await client.GetAsync($"{ApiRoot}/calendars/{id}/export?format=ics");
        Assert.That(export.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/calendar"));
        var calendar = Ical.Net.Calendar.Load(await export.Content.ReadAsStringAsync())!;
        Assert.Multiple(() =>
        {
            Assert.That(calendar.Events, Has.Count.EqualTo(events.Length - 1));
            Assert.That(calendar.Events.Select(e => e.Uid), Does.Not.Contain($"calendar-event-{events[0]}@content-planning"));
            Assert.That(calendar.Events.Select(e => e.Uid).Distinct().Count(), Is.EqualTo(events.Length - 1));
            Assert.That(calendar.Events.All(e => e.Categories.Count == 2 && e.Summary!.Length > 0 && e.DtStart is not null));
        });
    }

    [Test]
    public async Task CsvHasAHeaderAndOneQuotedRowPerEvent()
    {
        using var client = Testing.CreateClient();
        var (id, events) = await GenerateAsync(client, "exp-2");
        using var export = await client.GetAsync($"{ApiRoot}/calendars/{id}/export?format=csv");
        Assert.That(export.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/csv"));
        var rows = ReadCsv(await export.Content.ReadAsStringAsync());
        Assert.Multiple(() =>
        {
            Assert.That(rows[0], Is.EqualTo(new[] { "event_id", "scheduled_at", "title", "description", "platform", "content_type", "pillar", "status" }));
            Assert.That(rows.Skip(1).Select(r => long.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)), Is.EquivalentTo(events));
            Assert.That(rows.Skip(1).Select(r => r[6]), Has.Member("Guides, \"how-to\""));
            Assert.That(rows.All(r => r.Count == 8));
        });

        using var bad = await client.GetAsync($"{ApiRoot}/calendars/{id}/export?format=pdf");
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        using var missing = await client.GetAsync($"{ApiRoot}/calendars/987654/export?format=csv");
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    /// <summary>A small RFC 4180 reader: quoted fields may hold commas, doubled quotes and line breaks.</summary>
    private static List<List<string>> ReadCsv(string text)
    {
        var rows = new List<List<string>>();
        var row = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    field.Append(c);
                }
            }
            else if (c == '"')
            {
                quoted = true;
            }
            else if (c == ',')
            {
                row.Add(field.ToString());
                field.Clear();
            }
            else if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
            {
                row.Add(field.ToString());
                field.Clear();
                rows.Add(row);
                row = [];
                i++;
            }
            else
            {
                field.Append(c);
            }
        }

        Assert.That(row, Is.Empty, "the last row ends with CRLF");
        return rows;
    }
}
