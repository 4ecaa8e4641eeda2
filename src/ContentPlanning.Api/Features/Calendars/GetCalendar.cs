using System.Globalization;
using System.Text.Json.Nodes;
using Carter;
using ContentPlanning.Api.Features.CalendarEvents;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>
/// A generated calendar as generation answered it, with <c>daily_schedule</c> and <c>event_count</c> read from its events as
/// they are now (edits, status moves and deletions show). Not cached: one round trip of two indexed reads.
/// </summary>
public static class GetCalendar
{
    public sealed record Query(long Id) : IRequest<JsonNode?>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Calendar;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, JsonNode?>
    {
        private const string Sql = $"""
            SELECT result::text FROM generated_calendars WHERE id = @Id AND result IS NOT NULL;
            SELECT {CalendarEvent.SelectColumns} FROM calendar_events WHERE calendar_id = @Id ORDER BY scheduled_at, id;
            """;

        public async Task<JsonNode?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
            if (await grid.ReadSingleOrDefaultAsync<string>() is not { } text || JsonNode.Parse(text) is not JsonObject calendar)
            {
                return null;
            }

            var events = (await grid.ReadAsync<CalendarEvent>()).ToList();
            var zone = calendar["timezone"]?.GetValue<string>() is { } tz && TimeZoneInfo.TryFindSystemTimeZoneById(tz, out var found) ? found : TimeZoneInfo.Utc;
            var start = calendar["start_date"]?.GetValue<string>() is { } day && DateOnly.TryParse(day, CultureInfo.InvariantCulture, out var parsed) ? parsed : (DateOnly?)null;
            var themes = calendar["weekly_themes"] as JsonArray;
            calendar["daily_schedule"] = new JsonArray([.. events.Select(e => Piece(e, zone, start, themes))]);
            calendar["event_count"] = events.Count;
            return calendar;
        }

        // The generated piece's shape: columns the user may have edited, plan fields kept in details, times in the calendar's zone.
        // An event added to the calendar by hand has no plan fields: its week follows from its date, the theme is that
        // week's, and key message and call to action are empty.
        private static JsonNode Piece(CalendarEvent e, TimeZoneInfo zone, DateOnly? start, JsonArray? themes)
        {
            var local = TimeZoneInfo.ConvertTime(e.ScheduledAt, zone);
            var details = e.Details as JsonObject;
            var week = details?["week_number"]?.DeepClone()
                ?? (start is { } first ? JsonValue.Create(Math.Max(1, ((DateOnly.FromDateTime(local.DateTime).DayNumber - first.DayNumber) / 7) + 1)) : JsonValue.Create(1));
            var theme = details?["weekly_theme"]?.DeepClone()
                ?? themes?.OfType<JsonObject>().FirstOrDefault(t => t["week_number"]?.ToJsonString() == week.ToJsonString())?["theme"]?.DeepClone()
                ?? JsonValue.Create("");
            return new JsonObject
            {
                ["event_id"] = e.Id,
                ["date"] = local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                ["day_name"] = local.DayOfWeek.ToString(),
                ["week_number"] = week,
                ["weekly_theme"] = theme,
                ["pillar"] = e.Pillar,
                ["platform"] = e.Platform,
                ["content_type"] = e.ContentType,
                ["title"] = e.Title,
                ["description"] = e.Description,
                ["key_message"] = details?["key_message"]?.DeepClone() ?? "",
                ["call_to_action"] = details?["call_to_action"]?.DeepClone() ?? "",
                ["posting_time"] = local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
                ["keywords"] = details?["keywords"]?.DeepClone() ?? new JsonArray(),
                ["recommendation_id"] = details?["recommendation_id"]?.DeepClone(),
                ["status"] = e.Status,
            };
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/calendars/{id:long}", async Task<Results<Ok<JsonNode>, ProblemHttpResult>> (long id, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(id), ct) is { } calendar ? TypedResults.Ok(calendar) : Problems.NotFound($"Calendar {id} does not exist."))
                .WithTags("Calendars")
                .WithSummary("Read one generated calendar")
                // The stored answer is served as stored (JSON); its shape is the generated calendar's.
                .Produces<GenerateCalendar.GenerateCalendar.Calendar>(StatusCodes.Status200OK)
                .ProducesProblem(StatusCodes.Status404NotFound);
    }
}
