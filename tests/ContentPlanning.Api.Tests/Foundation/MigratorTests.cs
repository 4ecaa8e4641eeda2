using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Tests.Infrastructure;
using Dapper;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>Each test gets its own empty database, so the shared test database is never touched.</summary>
public sealed class MigratorTests
{
    private string _database = "";
    private NpgsqlDataSource _dataSource = null!;

    [SetUp]
    public async Task CreateDatabaseAsync()
    {
        _database = "migrator_" + Guid.NewGuid().ToString("N")[..12];
        await using (var admin = AdminConnection())
        {
            await admin.OpenAsync();
            await admin.ExecuteAsync($"CREATE DATABASE {_database}");
        }

        _dataSource = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = _database, Pooling = false }.ConnectionString);
    }

    [TearDown]
    public async Task DropDatabaseAsync()
    {
        await _dataSource.DisposeAsync();
        await using var admin = AdminConnection();
        await admin.OpenAsync();
        await admin.ExecuteAsync($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
    }

    [Test]
    public async Task AppliesEveryMigrationOnceAndIsIdempotent()
    {
        var migrator = Migrator(new DatabaseOptions());
        var shipped = migrator.LoadMigrations().Select(m => m.Version).ToList();

        var first = await migrator.MigrateAsync();
        var second = await migrator.MigrateAsync();

        Assert.That(first, Is.EqualTo(shipped).And.Not.Empty);
        Assert.That(second, Is.Empty);
        Assert.That(await Count("SELECT count(*) FROM schema_migrations"), Is.EqualTo(shipped.Count));
        Assert.That(await migrator.PendingAsync(), Is.Empty);
    }

    [Test]
    public async Task RefusesToStartWhenAnAppliedMigrationChanged()
    {
        var folder = Directory.CreateTempSubdirectory("migrations-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "0001_first.sql"), "CREATE TABLE t1 (id int);");
            var migrator = Migrator(new DatabaseOptions { MigrationsPath = folder });
            await migrator.MigrateAsync();

            await File.WriteAllTextAsync(Path.Combine(folder, "0001_first.sql"), "CREATE TABLE t1 (id bigint);");
            await File.WriteAllTextAsync(Path.Combine(folder, "0002_second.sql"), "CREATE TABLE t2 (id int);");

            var restarted = Migrator(new DatabaseOptions { MigrationsPath = folder });
            var error = Assert.ThrowsAsync<MigrationChecksumException>(() => restarted.MigrateAsync());
            Assert.That(error!.Version, Is.EqualTo("0001_first"));
            Assert.That(await Count("SELECT count(*) FROM pg_tables WHERE tablename = 't2'"), Is.Zero, "nothing after a refused check may run");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task AFailingMigrationLeavesNoTraceAndIsNotRecorded()
    {
        var folder = Directory.CreateTempSubdirectory("migrations-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "0001_broken.sql"), "CREATE TABLE half (id int); SELECT * FROM no_such_table;");
            var migrator = Migrator(new DatabaseOptions { MigrationsPath = folder });

            Assert.ThrowsAsync<PostgresException>(() => migrator.MigrateAsync());
            Assert.That(await Count("SELECT count(*) FROM pg_tables WHERE tablename = 'half'"), Is.Zero);
            Assert.That(await Count("SELECT count(*) FROM schema_migrations"), Is.Zero);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task TwoMigratorsRacingApplyEachMigrationOnce()
    {
        var nodes = Enumerable.Range(0, 4).Select(_ => Migrator(new DatabaseOptions())).ToList();

        var results = await Task.WhenAll(nodes.Select(n => Task.Run(() => n.MigrateAsync())));

        var shipped = nodes[0].LoadMigrations().Count;
        Assert.That(results.Sum(r => r.Count), Is.EqualTo(shipped), "every migration applied by exactly one node");
        Assert.That(await Count("SELECT count(*) FROM schema_migrations"), Is.EqualTo(shipped));
    }

    private DatabaseMigrator Migrator(DatabaseOptions options) =>
        new(_dataSource, new DatabaseConnections(_dataSource.ConnectionString, _dataSource.ConnectionString), Options.Create(options), NullLogger<DatabaseMigrator>.Instance);

    private async Task<long> Count(string sql)
    {
        await using var connection = await _dataSource.OpenConnectionAsync();
        return await connection.ExecuteScalarAsync<long>(sql);
    }

    private static NpgsqlConnection AdminConnection() =>
        new(new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { Database = "postgres", Pooling = false }.ConnectionString);
}
