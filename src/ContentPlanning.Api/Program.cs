using ContentPlanning.Api.Features.CalendarJobs;
using ContentPlanning.Api.Infrastructure;
using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Health;
using ContentPlanning.Api.Infrastructure.Hosting;
using ContentPlanning.Api.Infrastructure.Http;
using ContentPlanning.Api.Infrastructure.OpenApi;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Caching;
using Hangfire;

var builder = WebApplication.CreateBuilder(args);
if (CommandLine.IsToken(args))
{
    // Minting needs the Auth__* settings only: no database, no appsettings.json (it runs from any directory).
    return CommandLine.PrintToken(builder.Configuration, args);
}

try
{
    builder.AddTelemetry();
    builder.Services
        .AddDatabase(builder.Configuration)
        .AddTieredCache(builder.Configuration)
        .AddNodeIdentity()
        .AddAdminAccess(builder.Configuration)
        .AddAuth(builder.Configuration)
        .AddHttpConventions()
        .AddForwardedClients(builder.Configuration)
        .AddBrowserOrigins(builder.Configuration)
        .AddRateLimits(builder.Configuration)
        .AddGracefulShutdown(builder.Configuration)
        .AddHealth()
        .AddFeatures(builder.Configuration)
        .AddOpenApiContract();

    var app = builder.Build();
    app.ValidateSettings(builder.Services);

    if (CommandLine.IsCommand(args))
    {
        return await CommandLine.RunAsync(app, args);
    }

    app.UseForwardedClients();
    app.UseServerTiming();
    app.UseExceptionHandler();
    app.UseStatusCodePages();
    app.UseRequestBodyLimit();

    app.MapOpenApi();
    // Only requests under /swagger pass through the UI's middleware (it matches every other path against its own).
    app.UseWhen(c => c.Request.Path.StartsWithSegments("/swagger"), ui => ui.UseSwaggerUI(o => o.SwaggerEndpoint("/openapi/v1.json", "Content Planning v1")));
    app.UseCors();
    app.UseAuth();
    app.UseAntiforgery();
    app.UseRateLimiter();
    app.MapHealth();
    app.MapMetrics();
    app.MapFeatures();
    app.MapHangfireDashboard(JobsDashboard.Path, JobsDashboard.Options).RequireAuthorization(JobsDashboard.Policy);
    app.MapJobsDashboardSignIn();

    await app.MigrateOnStartAsync();
    await app.RunUntilStoppedAsync();
    return 0;
}
catch (Exception e) when (StartupProblems.Describe(e, builder.Configuration) is { } problems)
{
    // A setting to fix: one line per problem, exit 1, no stack trace.
    return StartupProblems.Report(problems);
}

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
