using Dapper;
using Npgsql;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>Empties every table but schema_migrations with one statement built from the catalog once (the Respawn idea).</summary>
public sealed class DatabaseReset
{
    private readonly string _truncate;

    private DatabaseReset(string truncate) => _truncate = truncate;

    public static async Task<DatabaseReset> CreateAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        var tables = (await connection.QueryAsync<string>("""
            SELECT format('%I.%I', schemaname, tablename)
            FROM pg_tables
            WHERE schemaname = 'public' AND tablename <> 'schema_migrations'
            ORDER BY tablename
            """)).ToList();
        return new DatabaseReset($"TRUNCATE {string.Join(", ", tables)} RESTART IDENTITY CASCADE");
    }

    public async Task ResetAsync(NpgsqlDataSource dataSource)
    {
        await using var connection = await dataSource.OpenConnectionAsync();
        await connection.ExecuteAsync(_truncate);
    }
}
