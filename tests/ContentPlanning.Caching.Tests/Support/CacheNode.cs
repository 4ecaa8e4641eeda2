using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ContentPlanning.Caching.Tests.Support;

/// <summary>One "node": its own service provider, Redis connection and TieredCache instance for a cache name.</summary>
internal sealed class CacheNode : IDisposable
{
    private readonly ServiceProvider _services;

    private CacheNode(ServiceProvider services, TieredCache cache, ListLoggerProvider logs)
    {
        _services = services;
        Cache = cache;
        Logs = logs;
        Connection = services.GetRequiredService<RedisConnection>();
    }

    public TieredCache Cache { get; }

    public ListLoggerProvider Logs { get; }

    public RedisConnection Connection { get; }

    public ITieredCacheProvider Provider => _services.GetRequiredService<ITieredCacheProvider>();

    public CacheStatistics Stats => Cache.GetStatistics();

    public static async Task<CacheNode> StartAsync(string cacheName, string? redis, Action<TieredCacheOptions>? configure = null)
    {
        var logs = new ListLoggerProvider();
        var services = new ServiceCollection()
            .AddLogging(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug))
            .AddTieredCache(o =>
            {
                o.Name = cacheName;
                o.NodeId = "node-" + Guid.NewGuid().ToString("N")[..6];
                configure?.Invoke(o);
            }, redis)
            .BuildServiceProvider();
        var cache = (TieredCache)services.GetRequiredService<ITieredCache>();
        await cache.WhenReadyAsync();
        return new CacheNode(services, cache, logs);
    }

    public void Dispose() => _services.Dispose();
}

/// <summary>The Redis of the test command (env TEST_REDIS) and a direct connection to inspect or tamper with keys.</summary>
internal static class TestRedis
{
    private static readonly Lazy<ConnectionMultiplexer> Direct = new(() => ConnectionMultiplexer.Connect(Endpoint + ",abortConnect=false"));

    public static string Endpoint =>
        Environment.GetEnvironmentVariable("TEST_REDIS") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("TEST_REDIS is not set: run the tests through scripts/test.sh (or set TEST_REDIS=host:port).");

    public static IDatabase Database => Direct.Value.GetDatabase();

    public static string NewCacheName() => "t-" + Guid.NewGuid().ToString("N")[..12];

    public static RedisKey EntryKey(string cacheName, string key) => $"cp:v1:{cacheName}:k:{key}";

    public static RedisChannel Channel(string cacheName) => new($"cp:v1:{cacheName}:bp", RedisChannel.PatternMode.Literal);

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {because}");
            await Task.Delay(10);
        }
    }

    public static Task Eventually(Func<bool> condition, string because, TimeSpan? timeout = null) =>
        Eventually(() => Task.FromResult(condition()), because, timeout);
}
