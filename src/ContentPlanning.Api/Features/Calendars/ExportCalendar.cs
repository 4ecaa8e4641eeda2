using System.Globalization;
using System.Text;
using ContentPlanning.Api.Features.CalendarEvents;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using FluentValidation;
using Ical.Net.DataTypes;
using Ical.Net.Serialization;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>
/// A calendar's events as they are now, in the calendar's time zone: iCalendar (RFC 5545: a VTIMEZONE written by Ical.Net,
/// each VEVENT at its local time with that TZID; cancelled events left out) or CSV (RFC 4180, UTF-8 with a byte order
/// mark, every event with its status, local and UTC times). Streamed: rows are written to the answer as they are read,
/// so a calendar of any size costs the same memory.
/// </summary>
public static class ExportCalendar
{
    /// <summary>Each event occupies this long in a calendar application.</summary>
    public static readonly TimeSpan EventDuration = TimeSpan.FromHours(1);

    public sealed record Query(long Id, string Format) : IRequest<Export?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Calendar;

        long? IOwnedResource.ResourceId => Id;
    }

    /// <summary>What the answer is, and how to write its body: the events are read while it is written.</summary>
    public sealed record Export(string ContentType, string FileName, Func<Stream, CancellationToken, Task> WriteAsync);

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(x => x.Format).Must(f => f is "ics" or "csv").WithMessage("format must be ics or csv.");
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Export?>
    {
        private const string CalendarSql = """
            SELECT coalesce(result ->> 'timezone', request ->> 'timezone') AS time_zone, start_date,
                   (SELECT min(scheduled_at) FROM calendar_events WHERE calendar_id = @Id) AS first_event
            FROM generated_calendars WHERE id = @Id
            """;

        private const string EventsSql = $"SELECT {CalendarEvent.SelectColumns} FROM calendar_events WHERE calendar_id = @Id ORDER BY scheduled_at, id";

        private sealed record CalendarRow(string? TimeZone, DateOnly StartDate, DateTimeOffset? FirstEvent);

        public async Task<Export?> Handle(Query request, CancellationToken cancellationToken)
        {
            CalendarRow? calendar;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                calendar = await connection.QuerySingleOrDefaultAsync<CalendarRow>(new CommandDefinition(CalendarSql, request, cancellationToken: cancellationToken));
            }

            if (calendar is null)
            {
                return null;
            }

            var zone = calendar.TimeZone is { } tz && TimeZoneInfo.TryFindSystemTimeZoneById(tz, out var found) ? found : TimeZoneInfo.Utc;
            var earliest = calendar.StartDate.ToDateTime(TimeOnly.MinValue);
            if (calendar.FirstEvent is { } first && TimeZoneInfo.ConvertTime(first, zone).DateTime < earliest)
            {
                earliest = TimeZoneInfo.ConvertTime(first, zone).DateTime.Date;
            }

            return request.Format == "ics"
                ? new Export("text/calendar; charset=utf-8", $"calendar-{request.Id}.ics", (body, ct) => WriteIcsAsync(ReadEvents(request.Id, ct), zone, earliest, body, ct))
                : new Export("text/csv; charset=utf-8", $"calendar-{request.Id}.csv", (body, ct) => WriteCsvAsync(ReadEvents(request.Id, ct), zone, body, ct));
        }

        // Its own connection, held while the answer is written; Dapper hands over each row as Npgsql reads it.
        private async IAsyncEnumerable<CalendarEvent> ReadEvents(long id, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await foreach (var row in connection.QueryUnbufferedAsync<CalendarEvent>(EventsSql, new { Id = id }).WithCancellation(cancellationToken))
            {
                yield return row;
            }
        }
    }

    /// <summary>Flushes the written text to the answer every this many characters, so the client receives it as it is read.</summary>
    private const int WriteBufferChars = 16 * 1024;

    /// <summary>
    /// The calendar's zone as a VTIMEZONE (Ical.Net, rules from <paramref name="earliest"/> on), then one VEVENT per
    /// non-cancelled event with DTSTART in local time and the zone's TZID. Ical.Net writes each VEVENT; its lines are
    /// folded again here at 75 octets between whole code points (Ical.Net's folding can split a surrogate pair).
    /// </summary>
    public static async Task WriteIcsAsync(IAsyncEnumerable<CalendarEvent> events, TimeZoneInfo zone, DateTime earliest, Stream output, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), WriteBufferChars, leaveOpen: true) { NewLine = "\r\n" };
        var serializer = new CalendarSerializer();
        var header = new Ical.Net.Calendar { ProductId = "-//ContentPlanning//Calendar export//EN" };
        header.AddTimeZone(zone.Id, earliest, includeHistoricalData: false);
        var headerText = serializer.SerializeToString(header) ?? "";
        await WriteFoldedAsync(writer, headerText[..headerText.LastIndexOf("END:VCALENDAR", StringComparison.Ordinal)]);
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            if (e.Status == "cancelled")
            {
                continue;
            }

            await WriteFoldedAsync(writer, serializer.SerializeToString(new Ical.Net.CalendarComponents.CalendarEvent
            {
                // Stable across exports: the same event keeps its UID, so re-importing updates instead of duplicating.
                Uid = $"calendar-event-{e.Id}@content-planning",
                DtStart = new CalDateTime(TimeZoneInfo.ConvertTime(e.ScheduledAt, zone).DateTime, zone.Id),
                Duration = Duration.FromHours((int)EventDuration.TotalHours),
                Summary = e.Title,
                Description = e.Description,
                Categories = new[] { e.Pillar, e.Platform }.OfType<string>().ToList(),
                DtStamp = new CalDateTime(e.UpdatedAt.UtcDateTime, "UTC"),
            }) ?? "");
        }

        await writer.WriteAsync("END:VCALENDAR\r\n");
    }

    /// <summary>The iCalendar text with its folds undone and redone: lines of at most 75 octets, cut only between code points.</summary>
    private static async Task WriteFoldedAsync(StreamWriter writer, string text)
    {
        foreach (var line in text.Replace("\r\n ", "", StringComparison.Ordinal).Replace("\r\n\t", "", StringComparison.Ordinal)
                     .Split("\r\n", StringSplitOptions.RemoveEmptyEntries))
        {
            await writer.WriteAsync(Fold(line));
            await writer.WriteAsync("\r\n");
        }
    }

    /// <summary>RFC 5545 section 3.1: a line longer than 75 octets continues on the next line after CRLF and one space.</summary>
    public static string Fold(string line)
    {
        const int MaxOctets = 75;
        var folded = new StringBuilder(line.Length + 8);
        var octets = 0;
        foreach (var rune in line.EnumerateRunes())
        {
            var size = rune.Utf8SequenceLength;
            if (octets + size > MaxOctets)
            {
                folded.Append("\r\n ");
                octets = 1;
            }

            folded.Append(rune.ToString());
            octets += size;
        }

        return folded.ToString();
    }

    private static readonly string[] CsvHeader =
        ["event_id", "scheduled_at_local", "time_zone", "scheduled_at_utc", "title", "description", "platform", "content_type", "pillar", "status"];

    /// <summary>"2026-03-02 09:00:00": the form spreadsheets read as a date and time.</summary>
    private const string SpreadsheetTime = "yyyy-MM-dd HH:mm:ss";

    /// <summary>
    /// UTF-8 with a byte order mark (spreadsheets then read it as UTF-8), CRLF rows, fields quoted as RFC 4180 says; the
    /// local time in the calendar's zone and the UTC time in the form spreadsheets read as dates; user text that a
    /// spreadsheet would run as a formula is neutralised (see <see cref="Neutralise"/>).
    /// </summary>
    public static async Task WriteCsvAsync(IAsyncEnumerable<CalendarEvent> events, TimeZoneInfo zone, Stream output, CancellationToken cancellationToken)
    {
        await output.WriteAsync(Encoding.UTF8.Preamble.ToArray(), cancellationToken);
        await using var writer = new StreamWriter(output, new UTF8Encoding(false), WriteBufferChars, leaveOpen: true);
        await writer.WriteAsync(Row(CsvHeader));
        await foreach (var e in events.WithCancellation(cancellationToken))
        {
            await writer.WriteAsync(Row([
                e.Id.ToString(CultureInfo.InvariantCulture),
                TimeZoneInfo.ConvertTime(e.ScheduledAt, zone).ToString(SpreadsheetTime, CultureInfo.InvariantCulture),
                zone.Id,
                e.ScheduledAt.UtcDateTime.ToString(SpreadsheetTime, CultureInfo.InvariantCulture),
                Neutralise(e.Title), Neutralise(e.Description), Neutralise(e.Platform), Neutralise(e.ContentType), Neutralise(e.Pillar), e.Status]));
        }
    }

    /// <summary>
    /// OWASP's CSV-injection rule: a field starting with =, +, -, @, TAB or CR (or their full-width forms, which some
    /// spreadsheets read alike) is prefixed with a single quote, so a spreadsheet shows it as text instead of running it.
    /// </summary>
    public static string? Neutralise(string? field) =>
        field is { Length: > 0 } && field[0] is '=' or '+' or '-' or '@' or '\t' or '\r' or '\uFF1D' or '\uFF0B' or '\uFF0D' or '\uFF20' ? "'" + field : field;

    // RFC 4180: CRLF line ends; a field with a comma, quote or line break is quoted, inner quotes doubled.
    private static string Row(string?[] fields)
    {
        var text = new StringBuilder();
        for (var i = 0; i < fields.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            var field = fields[i] ?? "";
            text.Append(field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field);
        }

        return text.Append("\r\n").ToString();
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/calendars/{id:long}/export", async Task<Results<PushStreamHttpResult, ProblemHttpResult>> (long id, string? format, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(new Query(id, format ?? "ics"), ct) is { } export
                    ? TypedResults.Stream(body => export.WriteAsync(body, ct), export.ContentType, export.FileName)
                    : Problems.NotFound($"Calendar {id} does not exist."))
            .WithSummary("Export a calendar's events as iCalendar (format=ics, default) or CSV (format=csv)")
            .Produces<string>(StatusCodes.Status200OK, "text/calendar", "text/csv")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem();
}
