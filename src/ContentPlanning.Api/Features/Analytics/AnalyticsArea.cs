using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Features.Analytics;

/// <summary>The analytics area: one Carter module, one route group, the tag set once.</summary>
internal static class AnalyticsArea
{
    internal sealed class Routes : AreaRoutes
    {
        protected override string Tag => "Analytics";

        protected override Action<IEndpointRouteBuilder>[] UseCases => [CreateAnalyticsRecord.Map, DeleteAnalyticsRecord.Map, GetAnalyticsRecord.Map, ListAnalyticsRecords.Map];
    }
}
