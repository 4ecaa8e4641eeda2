using Carter;

namespace ContentPlanning.Api.Features.Analytics;

/// <summary>The analytics area: its routes in one group, tagged once.</summary>
internal static class AnalyticsArea
{
    public const string Tag = "Analytics";

    /// <summary>Nested, like a one-use-case slice's endpoint: see FeatureRegistration on the order modules are mapped in.</summary>
    internal sealed class Routes : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup(string.Empty).WithTags(Tag);
            CreateAnalyticsRecord.Map(group);
            DeleteAnalyticsRecord.Map(group);
            GetAnalyticsRecord.Map(group);
            ListAnalyticsRecords.Map(group);
        }
    }
}
