using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Features.Recommendations;

/// <summary>The recommendations area: one Carter module, one route group, the tag set once.</summary>
internal static class RecommendationsArea
{
    internal sealed class Routes : AreaRoutes
    {
        protected override string Tag => "Recommendations";

        protected override Action<IEndpointRouteBuilder>[] UseCases => [CreateRecommendation.Map, DeleteRecommendation.Map, GetRecommendation.Map, ListRecommendations.Map, UpdateRecommendation.Map];
    }
}
