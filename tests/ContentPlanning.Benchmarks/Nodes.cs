using ContentPlanning.Caching;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Benchmarks;

/// <summary>A "node": its own service provider (so its own Redis connection) and cache instance.</summary>
internal sealed class Node : IDisposable
{
    private readonly ServiceProvider _services;

    private Node(ServiceProvider services, ITieredCache cache)
    {
        _services = services;
        Cache = cache;
    }

    public ITieredCache Cache { get; }

    public static string Redis => Environment.GetEnvironmentVariable("BENCH_REDIS") is { Length: > 0 } value ? value : "127.0.0.1:56379";

    public static async Task<Node> StartAsync(string cacheName, string? redis, Action<TieredCacheOptions>? configure = null)
    {
        var services = new ServiceCollection()
            .AddTieredCache(o =>
            {
                o.Name = cacheName;
                o.NodeId = "bench-" + Guid.NewGuid().ToString("N")[..6];
                configure?.Invoke(o);
            }, redis)
            .BuildServiceProvider();
        var cache = services.GetRequiredService<ITieredCache>();
        if (redis is not null) await services.GetRequiredService<RedisConnection>().GetMultiplexerAsync();
        if (redis is not null && !services.GetRequiredService<RedisConnection>().IsConnected)
        {
            throw new InvalidOperationException($"Redis at {redis} is not reachable (set BENCH_REDIS, or run scripts/bench.sh).");
        }
        return new Node(services, cache);
    }

    public void Dispose() => _services.Dispose();
}
