using System.Collections.Concurrent;
using System.Net;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Auth;

/// <summary>Tokens, keys and the Authorization header never reach a log line or a span, even at Trace level.</summary>
public sealed class SecretsTests : DatabaseTest
{
    [Test]
    public async Task NoTokenKeyOrAuthorizationHeaderReachesALogOrATrace()
    {
        using var capture = new CapturingLoggerProvider();
        await using var node = new ApiFactory("node-secrets", new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" });
        await using var factory = node.WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(capture)));
        var good = Tokens.User("alice");
        var expired = Tokens.Mint(notBefore: DateTime.UtcNow.AddHours(-3), expires: DateTime.UtcNow.AddHours(-2));
        var forged = Tokens.Mint(key: new byte[32]);

        foreach (var token in new[] { good, expired, forged, ApiFactory.ServiceToken })
        {
            using var client = factory.CreateClient();
            client.DefaultRequestHeaders.Authorization = new("Bearer", token);
            using var response = await client.GetAsync(ApiRoot + "/strategies?user_id=alice");
        }

        using var admin = factory.CreateClient();
        admin.DefaultRequestHeaders.Authorization = null;
        admin.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);
        using var traces = await admin.GetAsync(ApiRoot + "/diagnostics/traces?limit=200");
        var traceText = await traces.Content.ReadAsStringAsync();

        Assert.That(traces.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(traceText, Does.Contain("/strategies"), "the trace view holds the requests");
        Assert.That(capture.Lines, Is.Not.Empty);
        var secrets = new[] { good, expired, forged, ApiFactory.ServiceToken }
            .SelectMany(t => t.Split('.').Where(p => p.Length > 0)) // header, payload and signature each
            .Append(ApiFactory.SigningKey).Append(ApiFactory.AdminKey).Append("Bearer ey")
            .Distinct()
            .ToList();
        foreach (var secret in secrets.Where(s => !s.StartsWith("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", StringComparison.Ordinal)))
        {
            Assert.That(traceText, Does.Not.Contain(secret));
            Assert.That(capture.Lines.Where(l => l.Contains(secret, StringComparison.Ordinal)), Is.Empty);
        }

        Assert.That(capture.Lines.Where(l => l.Contains("authorization", StringComparison.OrdinalIgnoreCase) && l.Contains("Bearer", StringComparison.Ordinal)), Is.Empty);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<string> Lines { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull
            {
                owner.Lines.Enqueue($"{category} scope: {state}");
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner.Lines.Enqueue($"{category} {logLevel}: {formatter(state, exception)} {exception}");
        }
    }
}

/// <summary>Start-up validation of the Auth settings: each message names the setting to fix.</summary>
public sealed class AuthOptionsTests
{
    private static readonly string Key = Convert.ToBase64String(new byte[32]);

    private static IEnumerable<TestCaseData> Broken()
    {
        yield return new TestCaseData(new AuthOptions { Audience = "a" }, "Auth__Authority").SetArgDisplayNames("nothing to validate with");
        yield return new TestCaseData(new AuthOptions { SigningKey = Convert.ToBase64String(new byte[16]), Issuer = "i", Audience = "a" }, "256 bits").SetArgDisplayNames("short key");
        yield return new TestCaseData(new AuthOptions { SigningKey = "not base64!", Issuer = "i", Audience = "a" }, "Auth__SigningKey must be base64").SetArgDisplayNames("not base64");
        yield return new TestCaseData(new AuthOptions { SigningKey = Key, Audience = "a" }, "Auth__Issuer").SetArgDisplayNames("no issuer");
        yield return new TestCaseData(new AuthOptions { SigningKey = Key, Issuer = "i" }, "Auth__Audience").SetArgDisplayNames("no audience");
        yield return new TestCaseData(new AuthOptions { Authority = "https://login.example", SigningKey = Key, Issuer = "i", Audience = "a" }, "not both").SetArgDisplayNames("both");
        yield return new TestCaseData(new AuthOptions { Mode = "off" }, "Auth__Mode").SetArgDisplayNames("unknown mode");
    }

    [TestCaseSource(nameof(Broken))]
    public void AnUnusableConfigurationStopsTheNodeNamingTheSetting(AuthOptions options, string expected)
    {
        var result = new AuthOptionsValidator().Validate(null, options);

        Assert.That(result.Failed, Is.True);
        Assert.That(result.FailureMessage, Does.Contain(expected));
    }

    [Test]
    public void UsableConfigurationsPass()
    {
        var validator = new AuthOptionsValidator();

        Assert.That(validator.Validate(null, new AuthOptions { SigningKey = Key, Issuer = "i", Audience = "a" }).Succeeded, Is.True);
        Assert.That(validator.Validate(null, new AuthOptions { Authority = "https://login.example", Audience = "a" }).Succeeded, Is.True);
        Assert.That(validator.Validate(null, new AuthOptions { Mode = "none" }).Succeeded, Is.True);
    }

    [Test]
    public async Task ANodeWithoutAuthSettingsDoesNotStart()
    {
        var (exitCode, output) = await ApiProcess.RunUntilExitAsync(new Dictionary<string, string?> { ["Auth__Mode"] = "jwt", ["Auth__SigningKey"] = "", ["Auth__Issuer"] = "", ["Auth__Authority"] = "" });

        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("Auth__SigningKey"));
    }

    [Test]
    public async Task ModeNoneAdmitsAnonymousCallersAndReportsItOnReadiness()
    {
        await using var factory = new ApiFactory("node-auth-none", new Dictionary<string, string?> { ["Auth:Mode"] = "none" });
        using var client = factory.CreateAnonymousClient();

        using var list = await client.GetAsync(ApiRoot + "/strategies?user_id=anyone");
        using var ready = await client.GetAsync("/health/ready");
        var health = await JsonAsync(ready);

        Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(health.GetProperty("checks").GetProperty("auth").GetProperty("data").GetProperty("mode").GetString(), Is.EqualTo("none"));
        Assert.That(health.GetProperty("checks").GetProperty("auth").GetProperty("description").GetString(), Does.Contain("NOT authenticated"));
    }
}
