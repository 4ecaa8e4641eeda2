using System.Globalization;
using System.Text;
using Carter;
using ContentPlanning.Api.Features.CalendarEvents;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using FluentValidation;
using Ical.Net.DataTypes;
using Ical.Net.Serialization;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>
/// A calendar's events as they are now: iCalendar (RFC 5545, written by Ical.Net; cancelled events left out) or CSV
/// (RFC 4180, every event with its status).
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

    public sealed record Export(string ContentType, string FileName, byte[] Content);

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator() => RuleFor(x => x.Format).Must(f => f is "ics" or "csv").WithMessage("format must be ics or csv.");
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Export?>
    {
        private const string Sql = $"""
            SELECT EXISTS (SELECT 1 FROM generated_calendars WHERE id = @Id);
            SELECT {CalendarEvent.SelectColumns} FROM calendar_events WHERE calendar_id = @Id ORDER BY scheduled_at, id;
            """;

        public async Task<Export?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
            if (!await grid.ReadSingleAsync<bool>())
            {
                return null;
            }

            var events = (await grid.ReadAsync<CalendarEvent>()).ToList();
            return request.Format == "ics"
                ? new Export("text/calendar; charset=utf-8", $"calendar-{request.Id}.ics", Encoding.UTF8.GetBytes(Ics(events)))
                : new Export("text/csv; charset=utf-8", $"calendar-{request.Id}.csv", Encoding.UTF8.GetBytes(Csv(events)));
        }
    }

    public static string Ics(IEnumerable<CalendarEvent> events)
    {
        var calendar = new Ical.Net.Calendar { ProductId = "-//ContentPlanning//Calendar export//EN" };
        foreach (var e in events.Where(e => e.Status != "cancelled"))
        {
            calendar.Events.Add(new Ical.Net.CalendarComponents.CalendarEvent
            {
                // Stable across exports: the same event keeps its UID, so re-importing updates instead of duplicating.
                Uid = $"calendar-event-{e.Id}@content-planning",
                DtStart = new CalDateTime(e.ScheduledAt.UtcDateTime, "UTC"),
                Duration = Duration.FromHours((int)EventDuration.TotalHours),
                Summary = e.Title,
                Description = e.Description,
                Categories = new[] { e.Pillar, e.Platform }.OfType<string>().ToList(),
                DtStamp = new CalDateTime(e.UpdatedAt.UtcDateTime, "UTC"),
            });
        }

        return new CalendarSerializer().SerializeToString(calendar) ?? "";
    }

    private static readonly string[] CsvHeader = ["event_id", "scheduled_at", "title", "description", "platform", "content_type", "pillar", "status"];

    public static string Csv(IEnumerable<CalendarEvent> events)
    {
        var text = new StringBuilder();
        AppendRow(text, CsvHeader);
        foreach (var e in events)
        {
            AppendRow(text, [e.Id.ToString(CultureInfo.InvariantCulture), e.ScheduledAt.ToString("O", CultureInfo.InvariantCulture), e.Title,
                e.Description, e.Platform, e.ContentType, e.Pillar, e.Status]);
        }

        return text.ToString();
    }

    // RFC 4180: CRLF line ends; a field with a comma, quote or line break is quoted, inner quotes doubled.
    private static void AppendRow(StringBuilder text, IReadOnlyList<string?> fields)
    {
        for (var i = 0; i < fields.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            var field = fields[i] ?? "";
            text.Append(field.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + field.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : field);
        }

        text.Append("\r\n");
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/calendars/{id:long}/export", async Task<Results<FileContentHttpResult, ProblemHttpResult>> (long id, string? format, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id, format ?? "ics"), ct) is { } export
                        ? TypedResults.File(export.Content, export.ContentType, export.FileName)
                        : Problems.NotFound($"Calendar {id} does not exist."))
                .WithTags("Calendars")
                .WithSummary("Export a calendar's events as iCalendar (format=ics, default) or CSV (format=csv)")
                .Produces<string>(StatusCodes.Status200OK, "text/calendar", "text/csv")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesValidationProblem();
    }
}
