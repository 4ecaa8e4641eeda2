namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>Where the test servers are: scripts/test.sh starts them and sets these variables.</summary>
public static class TestEnvironment
{
    public static string PostgresConnectionString { get; } = Required("TEST_POSTGRES");

    public static string RedisConnectionString { get; } = Required("TEST_REDIS");

    /// <summary>A PgBouncer in transaction pooling mode in front of the test PostgreSQL (scripts/test.sh starts it).</summary>
    public static string PgBouncerConnectionString => Required("TEST_PGBOUNCER");

    /// <summary>
    /// A port free right now, chosen by the OS. Fixed test ports lie in Linux's ephemeral range (32768-60999), where any
    /// outgoing connection on the machine may be holding them: a fixed port failed CI with "address already in use".
    /// </summary>
    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string PrometheusData => Required("TEST_PROMETHEUS_DATA");

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{name} is not set: run the tests with scripts/test.sh, which starts PostgreSQL and Redis.");
}
