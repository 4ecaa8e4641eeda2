using System.Text;
using BenchmarkDotNet.Attributes;
using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentPlanning.PipelineBenchmarks;

/// <summary>
/// One cached read through the API's whole pipeline (middleware, auth, routing, MediatR behaviours, cache, JSON), in
/// process through TestServer, against a bare ASP.NET Core app (one MapGet) answering the same bytes through the same
/// TestServer. The difference per operation (µs, bytes allocated) is what the service adds to an L1 hit.
/// Production settings: Production environment, logging at Warning, the default trace sampler (1 %).
/// </summary>
public class PipelineBenchmarks
{
    private const string Comprehensive = "/api/content-planning/calendar-generation/comprehensive-user-data?user_id=demo-alice";
    private const string Active = "/api/content-planning/users/demo-alice/active-strategy";

    private WebApplicationFactory<Program> _none = null!;
    private WebApplicationFactory<Program> _jwt = null!;
    private WebApplication _bare = null!;
    private TestServer _bareServer = null!;
    private string _token = null!;

    [GlobalSetup]
    public void Setup()
    {
        var key = Convert.ToBase64String(Encoding.UTF8.GetBytes("pipeline-benchmark-signing-key-0123456789"));
        _none = new Api(("Auth:Mode", "none"));
        _jwt = new Api(("Auth:Mode", "jwt"), ("Auth:SigningKey", key), ("Auth:Issuer", "bench"), ("Auth:Audience", "content-planning"));
        DemoData.SeedAsync(_none.Services).GetAwaiter().GetResult();
        _token = LocalTokens.Mint(_jwt.Services.GetRequiredService<IOptions<AuthOptions>>().Value, "demo-alice", LocalTokens.UserScopes, TimeSpan.FromHours(12));

        var comprehensive = Send(_none.Server, Comprehensive, null).GetAwaiter().GetResult();
        var active = Send(_none.Server, Active, null).GetAwaiter().GetResult();
        Send(_jwt.Server, Comprehensive, _token).GetAwaiter().GetResult();
        Send(_jwt.Server, Active, _token).GetAwaiter().GetResult();

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        _bare = builder.Build();
        _bare.MapGet("/comprehensive", () => TypedResults.Bytes(comprehensive, "application/json; charset=utf-8"));
        _bare.MapGet("/active", () => TypedResults.Bytes(active, "application/json; charset=utf-8"));
        _bare.StartAsync().GetAwaiter().GetResult();
        _bareServer = _bare.GetTestServer();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bare.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _none.Dispose();
        _jwt.Dispose();
    }

    [Benchmark(Baseline = true, Description = "bare app, comprehensive bytes")]
    public Task<byte[]> BareComprehensive() => Send(_bareServer, "/comprehensive", null);

    [Benchmark(Description = "comprehensive data, L1 hit")]
    public Task<byte[]> ComprehensiveL1() => Send(_none.Server, Comprehensive, null);

    [Benchmark(Description = "comprehensive data, L1 hit, bearer token")]
    public Task<byte[]> ComprehensiveL1Bearer() => Send(_jwt.Server, Comprehensive, _token);

    [Benchmark(Description = "bare app, active-strategy bytes")]
    public Task<byte[]> BareActive() => Send(_bareServer, "/active", null);

    [Benchmark(Description = "active strategy, L1 hit")]
    public Task<byte[]> ActiveL1() => Send(_none.Server, Active, null);

    /// <summary>The API with production settings plus <paramref name="settings"/>.</summary>
    private sealed class Api(params (string Key, string Value)[] settings) : WebApplicationFactory<Program>
    {
        protected override void ConfigureWebHost(IWebHostBuilder web)
        {
            web.UseEnvironment("Production");
            web.UseSetting("ConnectionStrings:Postgres", Environment.GetEnvironmentVariable("BENCH_POSTGRES"));
            web.UseSetting("ConnectionStrings:Redis", Environment.GetEnvironmentVariable("BENCH_REDIS"));
            web.UseSetting("Admin:ApiKey", "pipeline-benchmark-admin-key");
            web.UseSetting("Logging:LogLevel:Default", "Warning");
            web.UseSetting("CalendarJobs:WorkersPerNode", "0");
            foreach (var (key, value) in settings)
            {
                web.UseSetting(key, value);
            }
        }
    }

    private static async Task<byte[]> Send(TestServer server, string pathAndQuery, string? token)
    {
        var context = await server.SendAsync(http =>
        {
            http.Request.Method = HttpMethods.Get;
            var query = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
            http.Request.Path = query < 0 ? pathAndQuery : pathAndQuery[..query];
            http.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(pathAndQuery[query..]);
            if (token is not null)
            {
                http.Request.Headers.Authorization = "Bearer " + token;
            }
        });
        if (context.Response.StatusCode != StatusCodes.Status200OK)
        {
            throw new InvalidOperationException($"{pathAndQuery} answered {context.Response.StatusCode}");
        }

        return context.Response.Body is MemoryStream body ? body.ToArray() : [];
    }
}
