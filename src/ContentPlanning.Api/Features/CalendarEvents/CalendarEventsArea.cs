using Carter;

namespace ContentPlanning.Api.Features.CalendarEvents;

/// <summary>The calendar events area: its routes in one group, tagged once.</summary>
internal static class CalendarEventsArea
{
    public const string Tag = "Calendar events";

    /// <summary>Nested, like a one-use-case slice's endpoint: see FeatureRegistration on the order modules are mapped in.</summary>
    internal sealed class Routes : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup(string.Empty).WithTags(Tag);
            CreateCalendarEvent.Map(group);
            DeleteCalendarEvent.Map(group);
            GetCalendarEvent.Map(group);
            ListCalendarEvents.Map(group);
            UpdateCalendarEvent.Map(group);
        }
    }
}
