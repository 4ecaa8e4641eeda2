using Carter;
using ContentPlanning.Api.Infrastructure.Features;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>One in-process node of the API against the test PostgreSQL and Redis. Several may run at once (multi-node tests).</summary>
public sealed class ApiFactory(string nodeName, IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789";

    public string NodeName { get; } = nodeName;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Postgres", TestEnvironment.PostgresConnectionString);
        builder.UseSetting("ConnectionStrings:Redis", TestEnvironment.RedisConnectionString);
        builder.UseSetting("Admin:ApiKey", AdminKey);
        builder.UseSetting("Cache:NodeId", NodeName);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services.AddSingleton<ICarterModule, FaultInjectionModule>());
    }
}
