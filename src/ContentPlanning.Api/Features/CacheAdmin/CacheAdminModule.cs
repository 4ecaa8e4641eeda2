using Carter;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;

namespace ContentPlanning.Api.Features.CacheAdmin;

/// <summary>The admin area: every route requires X-Admin-Key; its services (options, cleanup worker) are registered here.</summary>
internal sealed class CacheAdminModule : ICarterModule, IServiceModule
{
    public const string Tag = "Cache admin";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/calendar-generation/cache").WithTags(Tag).RequireAdmin();
        CacheStats.Map(group);
        InvalidateUserCache.Map(group);
        CleanupSnapshots.Map(group);
        WarmCache.Map(group);
    }

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CacheAdminOptions>()
            .Bind(configuration.GetSection(CacheAdminOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<SnapshotCleaner>();
        services.AddHostedService<SnapshotCleanupService>();
    }
}
