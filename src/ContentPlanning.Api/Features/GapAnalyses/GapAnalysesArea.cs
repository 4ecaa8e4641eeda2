using Carter;

namespace ContentPlanning.Api.Features.GapAnalyses;

/// <summary>The gap analyses area: its routes in one group, tagged once.</summary>
internal static class GapAnalysesArea
{
    public const string Tag = "Gap analyses";

    /// <summary>Nested, like a one-use-case slice's endpoint: see FeatureRegistration on the order modules are mapped in.</summary>
    internal sealed class Routes : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup(string.Empty).WithTags(Tag);
            CreateGapAnalysis.Map(group);
            DeleteGapAnalysis.Map(group);
            GetGapAnalysis.Map(group);
            ListGapAnalyses.Map(group);
            UpdateGapAnalysis.Map(group);
        }
    }
}
