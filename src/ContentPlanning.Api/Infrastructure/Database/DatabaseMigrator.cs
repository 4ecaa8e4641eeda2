using System.Security.Cryptography;
using System.Text;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>
/// Applies db/migrations/*.sql in name order, each in its own transaction, recording version and checksum in
/// <c>schema_migrations</c>. A session advisory lock makes nodes that start together apply each file once: it is taken on
/// the direct connection (<c>ConnectionStrings:PostgresDirect</c>), never through a transaction pooler, which would hand the
/// session to another client with the lock still held.
/// </summary>
public sealed partial class DatabaseMigrator(
    NpgsqlDataSource dataSource, DatabaseConnections connections, IOptions<DatabaseOptions> options, ILogger<DatabaseMigrator> logger)
{
    // Arbitrary but fixed: every node must contend for the same lock.
    private const long AdvisoryLockKey = 0x43505F4D4947;

    private IReadOnlyList<Migration>? _migrations;

    public sealed record Migration(string Version, string Checksum, string Sql);

    /// <summary>The shipped migrations, read once per process: files do not change under a running node.</summary>
    public IReadOnlyList<Migration> LoadMigrations() => _migrations ??= ReadMigrations();

    private List<Migration> ReadMigrations()
    {
        var path = options.Value.ResolveMigrationsPath();
        if (!Directory.Exists(path))
        {
            throw new InvalidOperationException($"Migrations folder '{path}' does not exist (Database__MigrationsPath).");
        }

        return Directory.GetFiles(path, "*.sql")
            .Order(StringComparer.Ordinal)
            .Select(file =>
            {
                // Line endings are normalised so a checkout on another OS keeps the same checksum.
                var sql = File.ReadAllText(file).ReplaceLineEndings("\n");
                var checksum = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql)));
                return new Migration(Path.GetFileNameWithoutExtension(file), checksum, sql);
            })
            .ToList();
    }

    /// <summary>Applies what is pending and returns the versions applied by this call.</summary>
    public async Task<IReadOnlyList<string>> MigrateAsync(CancellationToken cancellationToken = default)
    {
        var migrations = LoadMigrations();
        await using var connection = await connections.Direct.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@key)", new { key = AdvisoryLockKey }, cancellationToken: cancellationToken));
        try
        {
            await connection.ExecuteAsync(new CommandDefinition("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    text PRIMARY KEY,
                    checksum   char(64) NOT NULL,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, cancellationToken: cancellationToken));

            var applied = (await connection.QueryAsync<(string Version, string Checksum)>(
                    new CommandDefinition("SELECT version, checksum FROM schema_migrations", cancellationToken: cancellationToken)))
                .ToDictionary(row => row.Version, row => row.Checksum, StringComparer.Ordinal);

            foreach (var migration in migrations)
            {
                if (applied.TryGetValue(migration.Version, out var checksum) && checksum != migration.Checksum)
                {
                    throw new MigrationChecksumException(migration.Version, checksum, migration.Checksum);
                }
            }

            var newlyApplied = new List<string>();
            foreach (var migration in migrations.Where(m => !applied.ContainsKey(m.Version)))
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition(migration.Sql, transaction: transaction, commandTimeout: 600, cancellationToken: cancellationToken));
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO schema_migrations (version, checksum) VALUES (@Version, @Checksum)",
                    new { migration.Version, migration.Checksum }, transaction, cancellationToken: cancellationToken));
                await transaction.CommitAsync(cancellationToken);
                LogApplied(logger, migration.Version);
                newlyApplied.Add(migration.Version);
            }

            return newlyApplied;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@key)", new { key = AdvisoryLockKey }, cancellationToken: CancellationToken.None));
        }
    }

    /// <summary>
    /// Writes this node's settings that triggers read (Database__MaxUserSourceBytes into <c>service_settings</c>, migration
    /// 0011). False when the table does not exist yet (migrations pending and not applied by this node).
    /// </summary>
    public async Task<bool> ApplySettingsAsync(CancellationToken cancellationToken = default)
    {
        const string Sql = """
            INSERT INTO service_settings (name, value) VALUES ('max_user_source_bytes', @Value)
            ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = now()
            WHERE service_settings.value IS DISTINCT FROM excluded.value
            """;
        await using var connection = await connections.Direct.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
                "SELECT to_regclass('service_settings') IS NOT NULL", cancellationToken: cancellationToken)))
        {
            return false;
        }

        var value = options.Value.MaxUserSourceBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await connection.ExecuteAsync(new CommandDefinition(Sql, new { Value = value }, cancellationToken: cancellationToken));
        return true;
    }

    /// <summary>Versions shipped with this build that the database has not applied yet (readiness).</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken = default)
    {
        var migrations = LoadMigrations();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var exists = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT to_regclass('schema_migrations') IS NOT NULL", cancellationToken: cancellationToken));
        if (!exists)
        {
            return migrations.Select(m => m.Version).ToList();
        }

        var applied = (await connection.QueryAsync<string>(new CommandDefinition("SELECT version FROM schema_migrations", cancellationToken: cancellationToken)))
            .ToHashSet(StringComparer.Ordinal);
        return migrations.Where(m => !applied.Contains(m.Version)).Select(m => m.Version).ToList();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applied migration {Version}")]
    private static partial void LogApplied(ILogger logger, string version);
}

public sealed class MigrationChecksumException(string version, string appliedChecksum, string fileChecksum)
    : InvalidOperationException(
        $"Migration {version} was changed after it was applied (applied checksum {appliedChecksum}, file checksum {fileChecksum}). " +
        "Applied migrations are immutable: add a new migration instead.")
{
    public string Version { get; } = version;
}
