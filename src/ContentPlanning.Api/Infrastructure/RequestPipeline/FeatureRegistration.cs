using System.Reflection;
using Carter;
using ContentPlanning.Api.Features.Shared;
using FluentValidation;
using MediatR;

namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

public static class FeatureRegistration
{
    public const string RoutePrefix = "/api/content-planning";

    private static readonly Assembly FeatureAssembly = typeof(FeatureRegistration).Assembly;

    /// <summary>Registers MediatR handlers, validators (FluentValidation's scan) and Carter modules found in this assembly.</summary>
    public static IServiceCollection AddFeatures(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<IMediator>(sp => new Mediator(sp.GetService));
        // MediatR 5.1 resolves a request's behaviours on every Send. Those holding only singletons are singletons themselves.
        services.AddSingleton(typeof(IPipelineBehavior<,>), typeof(TracingBehavior<,>));
        // Outside ownership and validation: a dead pooled connection fails the owner lookup as readily as the handler.
        services.AddSingleton(typeof(IPipelineBehavior<,>), typeof(BrokenConnectionRetryBehavior<,>));
        // Ownership before validation (another user's object is 404 whatever its body); scoped: it reads the CurrentUser.
        services.AddScoped(typeof(IPipelineBehavior<,>), typeof(OwnershipBehavior<,>));
        services.AddSingleton(typeof(IPipelineBehavior<,>), typeof(ValidationBehavior<,>));

        foreach (var type in FeatureAssembly.GetTypes().Where(t => t is { IsAbstract: false, IsInterface: false, IsGenericTypeDefinition: false }))
        {
            foreach (var handler in type.GetInterfaces().Where(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequestHandler<,>)))
            {
                services.AddTransient(handler, type);
            }

            if (typeof(IServiceModule).IsAssignableFrom(type))
            {
                ((IServiceModule)Activator.CreateInstance(type)!).AddServices(services, configuration);
            }
        }

        // Validation runs once, in ValidationBehavior: Carter is told to register no validators of its own (its scan would
        // add each one a second time and the behavior would run it twice).
        services.AddValidatorsFromAssembly(FeatureAssembly, ServiceLifetime.Singleton, includeInternalTypes: true);
        services.AddCarter(configurator: carter => carter
            .WithModules(FeatureAssembly.GetTypes().Where(t => t is { IsAbstract: false, IsInterface: false } && typeof(ICarterModule).IsAssignableFrom(t)).ToArray())
            .WithEmptyValidators()
            .WithEmptyResponseNegotiators());

        // Shared by the slices (Features/Shared).
        services.AddSingleton<UserDataCache>();
        services.AddSingleton(TimeProvider.System);

        ValidatorOptions.Global.PropertyNameResolver = (_, member, _) => member is null ? null : SnakeCase(member.Name);
        ValidatorOptions.Global.DisplayNameResolver = (_, member, _) => member is null ? null : SnakeCase(member.Name);
        return services;
    }

    /// <summary>
    /// Maps every Carter module under <see cref="RoutePrefix"/>, each into a group of its own: one module per area (its
    /// routes tagged once, e.g. StrategiesArea.Routes) or a one-use-case slice's own Endpoint. The OpenAPI document lists
    /// paths in that order, which is the assembly's type order: top-level modules first (CacheAdminModule), then nested
    /// ones folder by folder; an area's module is nested in its area class so the committed document keeps its order.
    /// </summary>
    public static IEndpointRouteBuilder MapFeatures(this IEndpointRouteBuilder app)
    {
        // Any route may meet a database outage (503) or the unexpected (500); both are problem details.
        var api = app.MapGroup(RoutePrefix);
        api.ProducesProblem(StatusCodes.Status503ServiceUnavailable);
        api.ProducesProblem(StatusCodes.Status500InternalServerError);
        // Not MapCarter: it maps plain modules onto one builder, whose routes then share one data source, listed where
        // the first of them is, instead of following the module order.
        foreach (var module in app.ServiceProvider.GetServices<ICarterModule>())
        {
            module.AddRoutes(api.MapGroup(string.Empty));
        }

        return app;
    }

    private static string SnakeCase(string name) => System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(name);
}
