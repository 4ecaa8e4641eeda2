using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Features.Strategies;

/// <summary>The strategies area: one Carter module, one route group, the tag set once.</summary>
internal static class StrategiesArea
{
    internal sealed class Routes : AreaRoutes
    {
        protected override string Tag => "Strategies";

        protected override Action<IEndpointRouteBuilder>[] UseCases => [CreateStrategy.Map, DeleteStrategy.Map, GetStrategy.Map, ListStrategies.Map, UpdateStrategy.Map];
    }
}
