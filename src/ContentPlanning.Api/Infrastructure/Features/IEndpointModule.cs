namespace ContentPlanning.Api.Infrastructure.Features;

/// <summary>
/// One per feature slice: maps the slice's routes under <c>/api/content-planning</c>.
/// Implementations are discovered from the assembly at start (Carter's ICarterModule idea).
/// </summary>
public interface IEndpointModule
{
    void AddRoutes(IEndpointRouteBuilder app);
}
