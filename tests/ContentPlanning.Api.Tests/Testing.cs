using System.Net.Http.Json;
using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Http;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching;
using Dapper;
using MediatR;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Respawn;
using Respawn.Graph;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Api.Tests;

/// <summary>Starts one API node against the test PostgreSQL and Redis for the whole run (migrating it once).</summary>
[SetUpFixture]
public sealed class Testing
{
    private static ApiFactory? _factory;
    private static Respawner? _reset;

    public static ApiFactory Factory => _factory ?? throw new InvalidOperationException("The test host is not started.");

    public static JsonSerializerOptions Json { get; } = CreateJson();

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        // Tests seed their rows in SQL and then check cache tiers: this node must not hear those inserts (the database
        // change listener would evict asynchronously, at a moment the test does not choose). CacheCoherence tests start
        // nodes of their own with the listener on, as in production.
        _factory = new ApiFactory("node-a", new Dictionary<string, string?> { ["CacheCoherence:Enabled"] = "false" });
        _ = _factory.Server;
        // Respawn reads the foreign-key graph once and empties every table but the migration ledger, restarting identities
        // so ids in one test never depend on what an earlier test inserted.
        await using var connection = await DataSource.OpenConnectionAsync();
        _reset = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            TablesToIgnore = [new Table("schema_migrations")],
            WithReseed = true,
        });
    }

    [OneTimeTearDown]
    public void ReportContractConformance()
    {
        // The figure the OpenAPI issue asks for: operations whose every real answer in this run matched the document.
        var seen = ContractCheck.Seen;
        TestContext.Progress.WriteLine($"OpenAPI contract: {seen.Count(s => s.Value)} of {seen.Count} operations answered in conformance with the document in every call");
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }
    }

    public static NpgsqlDataSource DataSource => Factory.Services.GetRequiredService<NpgsqlDataSource>();

    public static IFusionCache Cache => Factory.Services.GetRequiredService<IFusionCache>();

    public static CachedRead Reads => Factory.Services.GetRequiredService<CachedRead>();

    /// <summary>Drops this node's L1 only: Redis keeps every entry.</summary>
    public static void ClearMemory() => Factory.Services.GetRequiredService<CacheMemory>().Clear();

    /// <summary>Empties the tables and every cache tier, so each test starts from nothing.</summary>
    public static async Task ResetStateAsync()
    {
        await using (var connection = await DataSource.OpenConnectionAsync())
        {
            await _reset!.ResetAsync(connection);
        }

        await Cache.ClearAsync(allowFailSafe: false);
        ClearMemory();

        // The rate limits count in Redis (keys rl:*): a test's partition starts from zero, whatever ran before it.
        var redis = await Factory.Services.GetRequiredService<RedisConnection>().GetMultiplexerAsync();
        var server = redis.GetServers()[0];
        foreach (var key in server.Keys(pattern: "rl:*"))
        {
            await redis.GetDatabase().KeyDeleteAsync(key);
        }
    }

    public static HttpClient CreateClient() => Factory.CreateClient();

    /// <summary>Sends a MediatR request in its own DI scope, as an endpoint does.</summary>
    public static async Task<TResponse> SendAsync<TResponse>(IRequest<TResponse> request)
    {
        await using var scope = Factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IMediator>().Send(request);
    }

    public static async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return (await connection.ExecuteScalarAsync<T>(sql, args))!;
    }

    public static async Task<int> ExecuteAsync(string sql, object? args = null)
    {
        await using var connection = await DataSource.OpenConnectionAsync();
        return await connection.ExecuteAsync(sql, args);
    }

    public static async Task<T> ReadJsonAsync<T>(HttpResponseMessage response) =>
        (await response.Content.ReadFromJsonAsync<T>(Json))!;

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        HttpExtensions.ConfigureJson(options);
        return options;
    }
}

/// <summary>Base of tests that touch the database: every test starts with empty tables and caches.</summary>
public abstract class DatabaseTest
{
    [SetUp]
    public Task ResetAsync() => Testing.ResetStateAsync();
}
