using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ContentPlanning.Caching.Tests.Support;

/// <summary>One "node": its own service provider, Redis connection and TieredCache instance for a cache name.</summary>
internal sealed class CacheNode : IDisposable
{
    private readonly ServiceProvider _services;

    private CacheNode(ServiceProvider services, FusionTieredCache cache, ListLoggerProvider logs)
    {
        _services = services;
        Cache = cache;
        Logs = logs;
        Connection = services.GetRequiredService<RedisConnection>();
    }

    public FusionTieredCache Cache { get; }

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
        var cache = (FusionTieredCache)services.GetRequiredService<ITieredCache>();
        if (redis is not null)
        {
            // A node is handed out once its backplane subscription is up, so no test races the first SUBSCRIBE.
            // Best effort: a test that starts a node with Redis unreachable gets it after a short wait.
            var deadline = DateTime.UtcNow.AddSeconds(3);
            while (!cache.GetStatistics().BackplaneConnected && DateTime.UtcNow < deadline) await Task.Delay(10);
        }
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

    /// <summary>Where FusionCache's RedisCache keeps an entry: the cache name prefix and FusionCache's wire-format version.</summary>
    public static RedisKey EntryKey(string cacheName, string key) => $"v2:{cacheName}:{key}";

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
