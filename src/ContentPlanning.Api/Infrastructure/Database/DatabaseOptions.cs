using System.ComponentModel.DataAnnotations;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>
/// Settings under <c>Database</c>; the connection strings are <c>ConnectionStrings:Postgres</c> (the request path, may go
/// through PgBouncer) and <c>ConnectionStrings:PostgresDirect</c> (session work; defaults to the first).
/// </summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Apply pending migrations when the API starts (Database__MigrateOnStart).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>Folder holding the NNNN_name.sql migrations; defaults to the copy shipped beside the binaries.</summary>
    public string? MigrationsPath { get; set; }

    /// <summary>Seconds a single command may run before it is cancelled (Database__CommandTimeoutSeconds).</summary>
    [Range(1, 600)]
    public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Most stored bytes of source data one user may hold in gap analyses, recommendations and analytics together
    /// (Database__MaxUserSourceBytes, 16 MiB). Enforced by a trigger (migrations 0008, 0011, 0013) that reads it from the
    /// <c>service_settings</c> table, which every node writes at start; a write beyond it is refused with 413.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxUserSourceBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// What sits between the request path (<c>ConnectionStrings:Postgres</c>) and PostgreSQL (Database__Pooler):
    /// <c>none</c>, <c>session</c> (PgBouncer pool_mode=session) or <c>transaction</c> (pool_mode=transaction: no
    /// auto-prepared statements, no session state, connections not reset by the client).
    /// </summary>
    public DatabasePooler Pooler { get; set; } = DatabasePooler.None;

    /// <summary>Most connections of this node's request pool (Database__MaxPoolSize), unless the connection string sets Maximum Pool Size.</summary>
    [Range(1, 1000)]
    public int MaxPoolSize { get; set; } = 30;

    /// <summary>
    /// Most connections of this node's Hangfire pool on the direct string (Database__HangfireMaxPoolSize); 0 sizes it from
    /// CalendarJobs__WorkersPerNode: 2 per worker (its fetch and its LISTEN for new jobs) plus 10 for Hangfire's own
    /// processes (schedulers, heartbeats, watchdog, expiration) and this node's enqueues and dashboard reads.
    /// </summary>
    [Range(0, 1000)]
    public int HangfireMaxPoolSize { get; set; }

    /// <summary>
    /// How often the node's listening connection proves it still hears notifications (Database__ListenerCheckInterval): it
    /// NOTIFYs itself through the request pool and waits for the echo; no echo within one more interval and the connection
    /// is dropped and opened again (readiness says so meanwhile).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan ListenerCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    public string ResolveMigrationsPath() =>
        string.IsNullOrWhiteSpace(MigrationsPath) ? Path.Combine(AppContext.BaseDirectory, "migrations") : MigrationsPath;
}

public enum DatabasePooler
{
    None,
    Session,
    Transaction,
}
