using System.Text.Json.Nodes;

namespace ContentPlanning.Api.Features.CalendarEvents;

/// <summary>A calendar event as every endpoint returns it (generated pieces keep their plan fields in <c>details</c>).</summary>
public sealed class CalendarEvent
{
    public long Id { get; set; }
    public long StrategyId { get; set; }
    public long? CalendarId { get; set; }
    public string Title { get; set; } = "";
    public string? Description { get; set; }
    public string? ContentType { get; set; }
    public string? Platform { get; set; }
    public DateTimeOffset ScheduledAt { get; set; }
    public string Status { get; set; } = "";
    public string? Pillar { get; set; }
    public JsonNode? Details { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The strategy owner, read with the row so a write can evict the owner's calendar answers; not part of the JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string? OwnerUserId { get; set; }

    public const string SelectColumns =
        "id, strategy_id, calendar_id, title, description, content_type, platform, scheduled_at, status, pillar, details, created_at, updated_at";

    /// <summary>Most characters of a description (also a CHECK constraint, migration 0012).</summary>
    public const int MaxDescriptionLength = 10_000;

    /// <summary>Most events one calendar holds (enforced by a trigger, migration 0012: a write past it is a 409).</summary>
    public const int MaxPerCalendar = 10_000;

    public static readonly string[] Statuses = ["draft", "scheduled", "published", "cancelled"];

    /// <summary>draft -> scheduled -> published; any non-published -> cancelled; published is final; staying put is allowed.</summary>
    public static bool CanMove(string from, string to) => from == to || (from, to) switch
    {
        ("draft", "scheduled") => true,
        ("scheduled", "published") => true,
        ("draft" or "scheduled", "cancelled") => true,
        _ => false,
    };
}
