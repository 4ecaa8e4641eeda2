using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>
/// The real process started with one bad setting of each kind: it prints one line per problem naming the environment
/// variable, what is wrong and the form expected, and exits 1 without a stack trace.
/// </summary>
public sealed class StartupValidationTests
{
    private static IEnumerable<TestCaseData> BadSettings()
    {
        // Variable, bad value, words the line must carry (the expected form, its unit).
        yield return Case("Database__CommandTimeoutSeconds", "0", "out of range", "whole number of seconds from 1 to 600");
        yield return Case("Database__CommandTimeoutSeconds", "thirty", "'thirty' is not", "whole number of seconds");
        yield return Case("Database__MigrateOnStart", "maybe", "is not true or false");
        yield return Case("Database__MaxUserSourceBytes", "12", "whole number of bytes of at least 1024");
        yield return Case("Cache__Duration", "soon", "'soon' is not a duration", "hh:mm:ss");
        yield return Case("Cache__Duration", "-00:00:01", "must be positive", "hh:mm:ss");
        yield return Case("Cache__MemorySizeLimit", "lots", "whole number of bytes");
        // Read while the services are registered, before the options checks: named with the form expected all the same.
        yield return Case("Shutdown__Timeout", "never", "'never' is not a duration", "hh:mm:ss");
        yield return Case("CalendarJobs__WorkersPerNode", "many", "'many' is not a whole number of workers from 0 to 64");
        yield return Case("RateLimiting__CalendarGenerationPerMinute", "0", "out of range", "requests per minute from 1 to 1000000");
        yield return Case("CalendarJobs__LeaseDuration", "00:00:01", "at least 2 seconds", "hh:mm:ss");
        yield return Case("CalendarJobs__WorkersPerNode", "-1", "out of range", "from 0 to 64");
        yield return Case("CacheCoherence__Channel", "Bad Channel", "not accepted", "text matching");
        yield return Case("ComprehensiveData__MemoryDuration", "00:00:00", "out of range", "duration");
        yield return Case("Webhooks__SigningSecret", "whsec_!!", "Webhooks__SigningSecret must be whsec_ followed by base64");
        yield return Case("Admin__ApiKey", "short", "at least 16 characters");
        yield return new TestCaseData(new Dictionary<string, string?> { ["Auth__Mode"] = "jwt", ["Auth__SigningKey"] = "c2hvcnQta2V5", ["Auth__Issuer"] = "i", ["Auth__Audience"] = "a" },
            "Auth__SigningKey", new[] { "256 bits", "it holds 72 bits" }).SetName("Auth__SigningKey too short");
        yield return Case("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url", "absolute URI");
        yield return Case("ConnectionStrings__Postgres", "Host=127.0.0.1;Port=1;Username=app;Database=x", "cannot reach PostgreSQL at 127.0.0.1:1", "connection string of a running PostgreSQL");
        yield return Case("ConnectionStrings__Postgres", "", "ConnectionStrings__Postgres is required");
        yield return Case("ConnectionStrings__Postgres", "Hots=x", "not a valid connection string");
    }

    private static TestCaseData Case(string variable, string value, params string[] words) =>
        new TestCaseData(new Dictionary<string, string?> { [variable] = value }, variable, words).SetName($"{variable}={value}");

    [TestCaseSource(nameof(BadSettings))]
    public async Task ABadSettingStopsTheProcessWithOneReadableLine(Dictionary<string, string?> settings, string variable, string[] words)
    {
        var (exitCode, output) = await ApiProcess.RunUntilExitAsync(settings);

        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var named = lines.Where(l => l.StartsWith(variable, StringComparison.Ordinal) || l.Contains(variable + " ", StringComparison.Ordinal) || l.Contains(variable + ":", StringComparison.Ordinal)).ToList();
        Assert.Multiple(() =>
        {
            Assert.That(exitCode, Is.EqualTo(1), output);
            Assert.That(output, Does.Not.Contain("Unhandled exception").And.Not.Contain("   at ").And.Not.Match(@"\bat [A-Z]\w+\.\w+"), "no stack trace");
            Assert.That(named, Has.Count.EqualTo(1), $"one line names {variable}:\n{output}");
            foreach (var word in words)
            {
                Assert.That(named.FirstOrDefault(), Does.Contain(word), output);
            }
        });
    }

    [Test]
    public async Task EveryBadSettingIsReportedAtOnce()
    {
        var (exitCode, output) = await ApiProcess.RunUntilExitAsync(new Dictionary<string, string?>
        {
            ["Database__CommandTimeoutSeconds"] = "0",
            ["RateLimiting__CacheWarmPerMinute"] = "0",
            ["CalendarJobs__MaxAttempts"] = "99",
        });

        Assert.That(exitCode, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("Database__CommandTimeoutSeconds").And.Contain("RateLimiting__CacheWarmPerMinute").And.Contain("CalendarJobs__MaxAttempts"));
        Assert.That(output, Does.Contain("3 settings to fix"));
    }

    [Test]
    public async Task ATokenIsMintedWithoutADatabaseFromAnyDirectory()
    {
        var (exitCode, output) = await ApiProcess.RunUntilExitAsync(new Dictionary<string, string?>
        {
            ["ConnectionStrings__Postgres"] = null,
            ["Auth__Mode"] = null,
            ["Auth__SigningKey"] = ApiFactory.SigningKey,
            ["Auth__Issuer"] = ApiFactory.Issuer,
            ["Auth__Audience"] = ApiFactory.Audience,
        }, ["token", "demo-alice", "user", "1"], workingDirectory: Path.GetTempPath());

        Assert.That(exitCode, Is.EqualTo(0), output);
        Assert.That(output.Trim().Split('.'), Has.Length.EqualTo(3), "a JWT on stdout");
    }
}
