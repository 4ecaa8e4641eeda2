using System.Globalization;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.CalendarEvents;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>
/// A generated calendar: its plan as generation answered it (pillars, themes, steps, scores), with <c>daily_schedule</c>
/// and <c>event_count</c> read from its events as they are now (edits, status moves, deletions and events added by hand
/// show). Not cached. The events are streamed: each piece is written to the answer as its row is read, so a calendar of
/// any size costs the same memory.
/// </summary>
public static class GetCalendar
{
    public sealed record Query(long Id) : IRequest<Answer?>, IOwnerFilteredResource;

    /// <summary>The stored plan and the calendar's events, read while the answer is written.</summary>
    public sealed record Answer(JsonObject Plan, IAsyncEnumerable<JsonNode> Pieces);

    internal sealed class Handler(NpgsqlDataSource dataSource, CurrentUser user) : IRequestHandler<Query, Answer?>
    {
        private const string PlanSql = "SELECT result::text FROM generated_calendars WHERE id = @Id AND result IS NOT NULL AND (@Owner::text IS NULL OR user_id = @Owner)";

        private const string EventsSql = $"SELECT {CalendarEvent.SelectColumns} FROM calendar_events WHERE calendar_id = @Id ORDER BY scheduled_at, id";

        public async Task<Answer?> Handle(Query request, CancellationToken cancellationToken)
        {
            string? text;
            await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
            {
                text = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(PlanSql, new { request.Id, Owner = user.OwnerFilter }, cancellationToken: cancellationToken));
            }

            if (text is null || JsonNode.Parse(text) is not JsonObject calendar)
            {
                return null;
            }

            var zone = calendar["timezone"]?.GetValue<string>() is { } tz && TimeZoneInfo.TryFindSystemTimeZoneById(tz, out var found) ? found : TimeZoneInfo.Utc;
            var start = calendar["start_date"]?.GetValue<string>() is { } day && DateOnly.TryParse(day, CultureInfo.InvariantCulture, out var parsed) ? parsed : (DateOnly?)null;
            var themes = calendar["weekly_themes"] as JsonArray;
            calendar.Remove("daily_schedule");
            calendar.Remove("event_count");
            return new Answer(calendar, Pieces(request.Id, zone, start, themes, cancellationToken));
        }

        // Its own connection, held while the answer is written; Dapper hands over each row as Npgsql reads it.
        private async IAsyncEnumerable<JsonNode> Pieces(
            long id, TimeZoneInfo zone, DateOnly? start, JsonArray? themes, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await foreach (var row in connection.QueryUnbufferedAsync<CalendarEvent>(EventsSql, new { Id = id }).WithCancellation(cancellationToken))
            {
                yield return Piece(row, zone, start, themes);
            }
        }

        // The generated piece's shape: columns the user may have edited, plan fields kept in details, times in the calendar's zone.
        // An event added to the calendar by hand has no plan fields: its week follows from its date, the theme is that
        // week's, and key message and call to action are empty.
        private static JsonObject Piece(CalendarEvent e, TimeZoneInfo zone, DateOnly? start, JsonArray? themes)
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

    /// <summary>The plan's fields, then <c>daily_schedule</c> piece by piece (flushed as it grows), then <c>event_count</c>.</summary>
    public static async Task WriteAsync(Answer answer, Stream body, System.Text.Encodings.Web.JavaScriptEncoder? encoder, CancellationToken cancellationToken)
    {
        await using var writer = new System.Text.Json.Utf8JsonWriter(body, new System.Text.Json.JsonWriterOptions { Encoder = encoder });
        writer.WriteStartObject();
        foreach (var (name, value) in answer.Plan)
        {
            writer.WritePropertyName(name);
            if (value is null)
            {
                writer.WriteNullValue();
            }
            else
            {
                value.WriteTo(writer);
            }
        }

        writer.WriteStartArray("daily_schedule");
        var count = 0;
        await foreach (var piece in answer.Pieces.WithCancellation(cancellationToken))
        {
            piece.WriteTo(writer);
            count++;
            if (writer.BytesPending > 16 * 1024)
            {
                await writer.FlushAsync(cancellationToken);
            }
        }

        writer.WriteEndArray();
        writer.WriteNumber("event_count", count);
        writer.WriteEndObject();
        await writer.FlushAsync(cancellationToken);
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/calendars/{id:long}", async Task<Results<PushStreamHttpResult, ProblemHttpResult>> (
                    long id, IMediator mediator, Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct) =>
                await mediator.Send(new Query(id), ct) is { } calendar
                    ? TypedResults.Stream(body => WriteAsync(calendar, body, json.Value.SerializerOptions.Encoder, ct), "application/json; charset=utf-8")
                    : Problems.NotFound($"Calendar {id} does not exist."))
            .WithSummary("Read one generated calendar")
            // The stored plan with the events as they are now; its shape is the generated calendar's.
            .Produces<GenerateCalendar.GenerateCalendar.Calendar>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status404NotFound);
}
