using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>The generated calendars area: one Carter module, one route group, the tag set once.</summary>
internal static class CalendarsArea
{
    internal sealed class Routes : AreaRoutes
    {
        protected override string Tag => "Calendars";

        protected override Action<IEndpointRouteBuilder>[] UseCases => [DeleteCalendar.Map, ExportCalendar.Map, GetCalendar.Map, ListCalendars.Map];
    }
}
