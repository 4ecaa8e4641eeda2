using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Features.GapAnalyses;

/// <summary>The gap analyses area: one Carter module, one route group, the tag set once.</summary>
internal static class GapAnalysesArea
{
    internal sealed class Routes : AreaRoutes
    {
        protected override string Tag => "Gap analyses";

        protected override Action<IEndpointRouteBuilder>[] UseCases => [CreateGapAnalysis.Map, DeleteGapAnalysis.Map, GetGapAnalysis.Map, ListGapAnalyses.Map, UpdateGapAnalysis.Map];
    }
}
