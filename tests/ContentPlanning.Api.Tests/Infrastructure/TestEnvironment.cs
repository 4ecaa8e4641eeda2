namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>Where the test servers are: scripts/test.sh starts them and sets these variables.</summary>
public static class TestEnvironment
{
    public static string PostgresConnectionString { get; } = Required("TEST_POSTGRES");

    public static string RedisConnectionString { get; } = Required("TEST_REDIS");

    public static int PrometheusPort => int.Parse(Required("TEST_PROMETHEUS_PORT"), System.Globalization.CultureInfo.InvariantCulture);

    public static int MetricsAppPort => int.Parse(Required("TEST_METRICS_APP_PORT"), System.Globalization.CultureInfo.InvariantCulture);

    public static string PrometheusData => Required("TEST_PROMETHEUS_DATA");

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test.sh, which starts PostgreSQL and Redis.");
}
