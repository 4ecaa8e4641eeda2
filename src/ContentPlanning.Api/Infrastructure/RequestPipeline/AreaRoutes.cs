using Carter;

namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

/// <summary>
/// The Carter module of an area with several use cases: their routes in one group, tagged once. Each use case keeps its
/// endpoint in its own <c>Map</c> (so its operationId stays its use case's name). Subclasses are nested in their area
/// class: see <see cref="FeatureRegistration.MapFeatures"/> on the order modules are mapped in.
/// </summary>
internal abstract class AreaRoutes : ICarterModule
{
    protected abstract string Tag { get; }

    /// <summary>The use cases' <c>Map</c> methods, in the order their paths are listed.</summary>
    protected abstract Action<IEndpointRouteBuilder>[] UseCases { get; }

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(string.Empty).WithTags(Tag);
        foreach (var map in UseCases)
        {
            map(group);
        }
    }
}
