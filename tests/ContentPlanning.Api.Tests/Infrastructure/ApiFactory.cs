using System.Net.Http.Headers;
using Carter;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>One in-process node of the API against the test PostgreSQL and Redis. Several may run at once (multi-node tests).</summary>
public sealed class ApiFactory(string nodeName, IReadOnlyDictionary<string, string?>? settings = null) : WebApplicationFactory<Program>
{
    public const string AdminKey = "test-admin-key-0123456789";

    public const string Issuer = "https://issuer.test";

    public const string Audience = "content-planning-api";

    /// <summary>A fixed 256-bit test key (base64).</summary>
    public static readonly string SigningKey = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("test-signing-key-0123456789abcdef"));

    /// <summary>The auth settings the test nodes run with (jwt, local signing key).</summary>
    public static readonly AuthOptions Auth = new() { Issuer = Issuer, Audience = Audience, SigningKey = SigningKey };

    /// <summary>What every client sends unless a test says otherwise: a service token (read, write, any-user).</summary>
    public static readonly string ServiceToken = LocalTokens.Mint(Auth, "test-service", LocalTokens.ServiceScopes, TimeSpan.FromDays(1));

    public string NodeName { get; } = nodeName;

    public static string UserToken(string userId, params string[] scopes) =>
        LocalTokens.Mint(Auth, userId, scopes.Length == 0 ? LocalTokens.UserScopes : scopes, TimeSpan.FromHours(1));

    /// <summary>
    /// A client with the service token whose every answer is checked against the committed OpenAPI document
    /// (<see cref="ContractCheck"/>): a call that gets an undocumented status or a body off its schema throws.
    /// </summary>
    public new HttpClient CreateClient() => CreateDefaultClient(ClientOptions.BaseAddress, new ContractCheck.Handler());

    /// <summary>A client without any Authorization header.</summary>
    public HttpClient CreateAnonymousClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    /// <summary>A client that sends <paramref name="token"/>.</summary>
    public HttpClient CreateClient(string token)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ServiceToken);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("ConnectionStrings:Postgres", TestEnvironment.PostgresConnectionString);
        builder.UseSetting("ConnectionStrings:Redis", TestEnvironment.RedisConnectionString);
        builder.UseSetting("Admin:ApiKey", AdminKey);
        builder.UseSetting("Cache:NodeId", NodeName);
        builder.UseSetting("Auth:Issuer", Issuer);
        builder.UseSetting("Auth:Audience", Audience);
        builder.UseSetting("Auth:SigningKey", SigningKey);
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // Tests read the recent-traces view: every request traced (production samples 1 %, see TraceSampling).
        builder.UseSetting("OTEL_TRACES_SAMPLER", "always_on");
        // Tests generate and warm far more often than a client may; RateLimitTests sets real limits on a node of its own.
        builder.UseSetting("RateLimiting:CalendarGenerationPerMinute", "1000000");
        builder.UseSetting("RateLimiting:CacheWarmPerMinute", "1000000");
        // Only the job tests run Hangfire workers (they say so); every other node accepts jobs but runs none.
        builder.UseSetting("CalendarJobs:WorkersPerNode", "0");
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services => services.AddSingleton<ICarterModule, FaultInjectionModule>());
    }
}
