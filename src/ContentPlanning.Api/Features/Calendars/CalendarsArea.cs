using Carter;

namespace ContentPlanning.Api.Features.Calendars;

/// <summary>The generated calendars area: its routes in one group, tagged once.</summary>
internal static class CalendarsArea
{
    public const string Tag = "Calendars";

    /// <summary>Nested, like a one-use-case slice's endpoint: see FeatureRegistration on the order modules are mapped in.</summary>
    internal sealed class Routes : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup(string.Empty).WithTags(Tag);
            DeleteCalendar.Map(group);
            ExportCalendar.Map(group);
            GetCalendar.Map(group);
            ListCalendars.Map(group);
        }
    }
}
