using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching.Tests.Support;

/// <summary>One "node": a started host with the cache registered as the service registers it, on a cache name of the test's.</summary>
internal sealed class CacheNode : IAsyncDisposable
{
    private readonly IHost _host;

    private CacheNode(IHost host, ListLoggerProvider logs)
    {
        _host = host;
        Logs = logs;
    }

    public ListLoggerProvider Logs { get; }

    public IServiceProvider Services => _host.Services;

    public CachedRead Reads => Services.GetRequiredService<CachedRead>();

    public IFusionCache Cache => Services.GetRequiredService<IFusionCache>();

    public CacheCounters Counters => Services.GetRequiredService<CacheCounters>();

    public RedisConnection Connection => Services.GetRequiredService<RedisConnection>();

    public static async Task<CacheNode> StartAsync(string cacheName, string? redis, Action<CacheSettings>? configure = null)
    {
        var logs = new ListLoggerProvider();
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddTieredCache(o =>
        {
            o.Name = cacheName;
            o.NodeId = "node-" + Guid.NewGuid().ToString("N")[..6];
            configure?.Invoke(o);
        }, redis);
        var host = builder.Build();
        // Starting builds the cache, which waits for the backplane's first SUBSCRIBE: no test races it.
        await host.StartAsync();
        return new CacheNode(host, logs);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}

/// <summary>The Redis of the test command (env TEST_REDIS) and a direct connection to inspect or tamper with keys.</summary>
internal static class TestRedis
{
    private static readonly Lazy<ConnectionMultiplexer> Direct = new(() => ConnectionMultiplexer.Connect(Endpoint + ",abortConnect=false,allowAdmin=true"));

    public static string Endpoint =>
        Environment.GetEnvironmentVariable("TEST_REDIS") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException("TEST_REDIS is not set: run the tests through scripts/test.sh (or set TEST_REDIS=host:port).");

    public static IDatabase Database => Direct.Value.GetDatabase();

    public static IServer Server => Direct.Value.GetServer(Direct.Value.GetEndPoints()[0]);

    public static string NewCacheName() => "t-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Where FusionCache's RedisCache keeps an entry: the cache name prefix and FusionCache's wire-format version.</summary>
    public static RedisKey EntryKey(string cacheName, string key) => $"v2:{cacheName}:{key}";

    /// <summary>Polls until <paramref name="condition"/> holds; fails the test after <paramref name="timeout"/>.</summary>
    public static async Task Eventually(Func<Task<bool>> condition, string because, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting until {because}");
            await Task.Delay(10);
        }
    }

    public static Task Eventually(Func<bool> condition, string because, TimeSpan? timeout = null) =>
        Eventually(() => Task.FromResult(condition()), because, timeout);
}

/// <summary>A factory a test can count, hold and release.</summary>
internal sealed class Source<T>(Func<int, T> produce)
    where T : class
{
    private int _runs;
    private TaskCompletionSource _gate = Open();

    public int Runs => Volatile.Read(ref _runs);

    /// <summary>Completed each time a run has begun (before it waits at the gate).</summary>
    public event Action<int>? Began;

    public void Hold()
    {
        if (_gate.Task.IsCompleted) _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public void Release() => _gate.TrySetResult();

    public async Task<T?> RunAsync(CancellationToken cancellationToken)
    {
        var run = Interlocked.Increment(ref _runs);
        var value = produce(run);
        Began?.Invoke(run);
        await _gate.Task.WaitAsync(cancellationToken);
        return value;
    }

    public static Task<T?> Run(Source<T> source, CancellationToken cancellationToken) => source.RunAsync(cancellationToken);

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
