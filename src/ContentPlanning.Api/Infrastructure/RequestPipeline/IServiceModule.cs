namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

/// <summary>
/// Optional, per slice: registers the slice's own services (background workers, options), so a slice that needs
/// more than a handler still lives entirely in its folder. Implementations are discovered from the assembly.
/// </summary>
public interface IServiceModule
{
    void AddServices(IServiceCollection services, IConfiguration configuration);
}
