using ContentPlanning.Caching;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Benchmarks;

/// <summary>The value type the benchmarks cache (cached reads hold reference types).</summary>
internal sealed record Box(int N);

/// <summary>A "node": its own started host (so its own Redis connection) with the cache registered as the service does.</summary>
internal sealed class Node : IDisposable
{
    private readonly IHost _host;

    private Node(IHost host) => _host = host;

    public CachedRead Reads => _host.Services.GetRequiredService<CachedRead>();

    public IFusionCache Cache => _host.Services.GetRequiredService<IFusionCache>();

    public CacheMemory Memory => _host.Services.GetRequiredService<CacheMemory>();

    public CacheCounters Counters => _host.Services.GetRequiredService<CacheCounters>();

    public static string Redis => Environment.GetEnvironmentVariable("BENCH_REDIS") is { Length: > 0 } value ? value : "127.0.0.1:56379";

    public static async Task<Node> StartAsync(string cacheName, string? redis, Action<CacheSettings>? configure = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddTieredCache(o =>
        {
            o.Name = cacheName;
            o.NodeId = "bench-" + Guid.NewGuid().ToString("N")[..6];
            configure?.Invoke(o);
        }, redis);
        var host = builder.Build();
        await host.StartAsync();
        if (redis is not null && !host.Services.GetRequiredService<RedisConnection>().IsConnected)
        {
            throw new InvalidOperationException($"Redis at {redis} is not reachable (set BENCH_REDIS, or run scripts/bench.sh).");
        }

        return new Node(host);
    }

    /// <summary>A cached read of <paramref name="key"/> whose factory answers <paramref name="value"/>.</summary>
    public ValueTask<CachedAnswer<Box>> ReadAsync(string key, int value = -1, string[]? tags = null, bool force = false) =>
        Reads.ReadAsync(key, value, static (v, _) => Task.FromResult<Box?>(new Box(v)), force, tags: tags);

    public void Dispose()
    {
        _host.StopAsync().GetAwaiter().GetResult();
        _host.Dispose();
    }
}
