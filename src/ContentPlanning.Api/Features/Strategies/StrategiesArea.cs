using Carter;

namespace ContentPlanning.Api.Features.Strategies;

/// <summary>The strategies area: its routes in one group, tagged once.</summary>
internal static class StrategiesArea
{
    public const string Tag = "Strategies";

    /// <summary>Nested, like a one-use-case slice's endpoint: see FeatureRegistration on the order modules are mapped in.</summary>
    internal sealed class Routes : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup(string.Empty).WithTags(Tag);
            CreateStrategy.Map(group);
            DeleteStrategy.Map(group);
            GetStrategy.Map(group);
            ListStrategies.Map(group);
            UpdateStrategy.Map(group);
        }
    }
}
