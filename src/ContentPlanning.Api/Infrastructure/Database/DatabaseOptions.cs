using System.ComponentModel.DataAnnotations;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>Settings under <c>Database</c>; the connection string itself is <c>ConnectionStrings:Postgres</c>.</summary>
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
    /// (Database__MaxUserSourceBytes, 16 MiB). Enforced by a trigger (migration 0008) that reads it from this node's
    /// connections; a write beyond it is refused with 413.
    /// </summary>
    [Range(1024, long.MaxValue)]
    public long MaxUserSourceBytes { get; set; } = 16 * 1024 * 1024;

    public string ResolveMigrationsPath() =>
        string.IsNullOrWhiteSpace(MigrationsPath) ? Path.Combine(AppContext.BaseDirectory, "migrations") : MigrationsPath;
}
