using Carter;

namespace ContentPlanning.Api.Features.Recommendations;

/// <summary>The recommendations area: its routes in one group, tagged once.</summary>
internal static class RecommendationsArea
{
    public const string Tag = "Recommendations";

    /// <summary>Nested, like a one-use-case slice's endpoint: see FeatureRegistration on the order modules are mapped in.</summary>
    internal sealed class Routes : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup(string.Empty).WithTags(Tag);
            CreateRecommendation.Map(group);
            DeleteRecommendation.Map(group);
            GetRecommendation.Map(group);
            ListRecommendations.Map(group);
            UpdateRecommendation.Map(group);
        }
    }
}
