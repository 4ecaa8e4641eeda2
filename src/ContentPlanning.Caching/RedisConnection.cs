using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ContentPlanning.Caching;

/// <summary>
/// The process's one Redis multiplexer, shared by FusionCache's L2 (RedisCache) and the backplane, so a node holds two
/// sockets (commands, pub/sub) whatever the number of caches. abortConnect=false: the host starts while Redis is down
/// and the multiplexer reconnects by itself.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly ILogger _logger;
    private readonly Lazy<Task<IConnectionMultiplexer>>? _multiplexer;
    private int _wasDown;

    /// <param name="connectionString">StackExchange.Redis configuration string; null or empty means no Redis (L1-only).</param>
    public RedisConnection(string? connectionString, ILogger<RedisConnection> logger)
    {
        _logger = logger;
        if (string.IsNullOrWhiteSpace(connectionString)) return;
        var configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        // While disconnected, fail a command at once instead of queueing it until the reconnect or its timeout: the
        // cache then falls back (L1, factory, fail-safe) and FusionCache's circuit breaker opens, instead of every
        // caller waiting out the L2 timeout.
        configuration.BacklogPolicy = BacklogPolicy.FailFast;
        IsConfigured = true;
        _multiplexer = new Lazy<Task<IConnectionMultiplexer>>(() => ConnectAsync(configuration));
    }

    /// <summary>False when no connection string is configured: the caches are L1-only.</summary>
    public bool IsConfigured { get; }

    /// <summary>True when the command connection is up.</summary>
    public bool IsConnected => _multiplexer is { IsValueCreated: true, Value.IsCompletedSuccessfully: true } m && m.Value.Result.IsConnected;

    /// <summary>
    /// The pub/sub socket came back: backplane messages sent meanwhile were lost, so every L1 that relied on them must
    /// stop trusting its entries.
    /// </summary>
    public event Action? SubscriptionRestored;

    /// <summary>
    /// Called before every cache read: SE.Redis raises <c>ConnectionRestored</c> on a background thread, so a read can see the
    /// socket back before that handler ran. Such a read handles the pending restore itself first, so no read after the
    /// reconnect is served from L1 entries that predate the outage. One volatile read when nothing is pending.
    /// </summary>
    public void HandlePendingRestore()
    {
        if (Volatile.Read(ref _wasDown) == 1 && IsConnected && Interlocked.Exchange(ref _wasDown, 0) == 1) SubscriptionRestored?.Invoke();
    }

    /// <summary>The shared multiplexer (created on first use); throws when no Redis is configured.</summary>
    public Task<IConnectionMultiplexer> GetMultiplexerAsync() =>
        _multiplexer?.Value ?? throw new InvalidOperationException("No Redis connection string is configured.");

    private async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) =>
        {
            Volatile.Write(ref _wasDown, 1);
            Log.ConnectionLost(_logger, e.FailureType.ToString(), e.EndPoint?.ToString() ?? "?", e.Exception);
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            Log.ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
            // Once per outage, on the first socket back (with RESP3, pub/sub shares the interactive connection).
            if (Interlocked.Exchange(ref _wasDown, 0) == 1) SubscriptionRestored?.Invoke();
        };
        return multiplexer;
    }

    public void Dispose()
    {
        if (_multiplexer is { IsValueCreated: true, Value.IsCompletedSuccessfully: true } m) m.Value.Result.Dispose();
    }
}
