using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>
/// The node's connections by purpose, each with its own <c>application_name</c> (find them in <c>pg_stat_activity</c>):
/// the request pool (<see cref="NpgsqlDataSource"/>, <c>ConnectionStrings:Postgres</c>, may go through PgBouncer in
/// transaction mode) and, on <c>ConnectionStrings:PostgresDirect</c> (defaults to the first), what needs a session of
/// its own: the migrator and start-up settings (<see cref="Direct"/>), Hangfire's storage (its LISTEN for new jobs and
/// its locks) and the node's one LISTEN connection.
/// </summary>
public sealed class DatabaseConnections(string requestConnectionString, string directConnectionString) : IDisposable
{
    public const string RequestPoolName = "content-planning";
    public const string DirectPoolName = "cp-direct";
    public const string HangfirePoolName = "cp-hangfire";
    public const string ListenerNamePrefix = "cp-listener:";

    private readonly Lazy<NpgsqlDataSource> _direct = new(() => new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(directConnectionString)
    {
        ApplicationName = DirectPoolName,
        // Migrations and the settings write at start: two at most, gone soon after.
        MaxPoolSize = 2,
        ConnectionIdleLifetime = 30,
        MaxAutoPrepare = 0,
    }.ConnectionString).Build());

    /// <summary>The request path's connection string as configured (tests and tools compare against it).</summary>
    public string RequestConnectionString { get; } = requestConnectionString;

    /// <summary>A small pool on the direct string for session work (the migrator's advisory lock, start-up settings).</summary>
    public NpgsqlDataSource Direct => _direct.Value;

    /// <summary>
    /// Hangfire's pool on the direct string (its long polling LISTENs, which a transaction pooler cannot carry), named after
    /// the node: Hangfire opens connections by string, and Npgsql pools by string, so one name per node keeps nodes that
    /// share a process (tests) from sharing, and exhausting, one pool.
    /// </summary>
    public string HangfireConnectionString(string nodeId, int maxPoolSize) => new NpgsqlConnectionStringBuilder(directConnectionString)
    {
        ApplicationName = Named(HangfirePoolName + ":" + nodeId),
        MaxPoolSize = maxPoolSize,
        MaxAutoPrepare = 0,
        // Hangfire keeps no session state on its pooled connections (its locks are rows, its LISTEN connection is its
        // own): without this, every return to the pool costs a DISCARD ALL, a transaction of its own, several a second.
        NoResetOnClose = true,
        // Idle, Hangfire needs two or three at a time: what a burst opened is closed again after 30 s.
        ConnectionIdleLifetime = 30,
    }.ConnectionString;

    /// <summary>The node's listening connection: unpooled, on the direct string, named after the node.</summary>
    public string ListenerConnectionString(string nodeId) => new NpgsqlConnectionStringBuilder(directConnectionString)
    {
        Pooling = false,
        ApplicationName = Named(ListenerNamePrefix + nodeId),
        // A half-open socket must surface as an error, not as silence that looks like "no writes".
        KeepAlive = 10,
        MaxAutoPrepare = 0,
    }.ConnectionString;

    /// <summary>PostgreSQL keeps 63 bytes of an application_name.</summary>
    private static string Named(string name) => name.Length > 63 ? name[..63] : name;

    public void Dispose()
    {
        if (_direct.IsValueCreated)
        {
            _direct.Value.Dispose();
        }
    }
}
