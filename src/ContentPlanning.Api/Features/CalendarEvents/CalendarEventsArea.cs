using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Features.CalendarEvents;

/// <summary>The calendar events area: one Carter module, one route group, the tag set once.</summary>
internal static class CalendarEventsArea
{
    internal sealed class Routes : AreaRoutes
    {
        protected override string Tag => "Calendar events";

        protected override Action<IEndpointRouteBuilder>[] UseCases => [CreateCalendarEvent.Map, DeleteCalendarEvent.Map, GetCalendarEvent.Map, ListCalendarEvents.Map, UpdateCalendarEvent.Map];
    }
}
