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
    // Outages seen, and the outages whose restore handlers have run: a restore is pending while they differ. (Counters,
    // not a flag, so a failure that arrives while a restore runs is never cleared by it.)
    private long _failures;
    private long _restored;

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

    private readonly Lock _restoreLock = new();

    /// <summary>
    /// Called before every cache read: SE.Redis raises <c>ConnectionRestored</c> on a background thread, so a read can see the
    /// socket back before that handler ran. Such a read handles the pending restore itself first, so no read after the
    /// reconnect is served from L1 entries that predate the outage. One volatile read when nothing is pending.
    /// </summary>
    public void HandlePendingRestore()
    {
        if (Volatile.Read(ref _failures) != Volatile.Read(ref _restored) && IsConnected) Restore();
    }

    // The flag is cleared only once the handlers ran, under a lock: a read that arrives while another thread is still
    // dropping L1 waits for it instead of reading entries from before the outage.
    private void Restore()
    {
        lock (_restoreLock)
        {
            var failures = Volatile.Read(ref _failures);
            if (failures == Volatile.Read(ref _restored)) return;
            SubscriptionRestored?.Invoke();
            Volatile.Write(ref _restored, failures);
        }
    }

    /// <summary>The shared multiplexer (created on first use); throws when no Redis is configured.</summary>
    public Task<IConnectionMultiplexer> GetMultiplexerAsync() =>
        _multiplexer?.Value ?? throw new InvalidOperationException("No Redis connection string is configured.");

    private async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) =>
        {
            Interlocked.Increment(ref _failures);
            Log.ConnectionLost(_logger, e.FailureType.ToString(), e.EndPoint?.ToString() ?? "?", e.Exception);
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            Log.ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
            // Once per outage, on the first socket back (with RESP3, pub/sub shares the interactive connection).
            Restore();
        };
        return multiplexer;
    }

    public void Dispose()
    {
        if (_multiplexer is { IsValueCreated: true, Value.IsCompletedSuccessfully: true } m) m.Value.Result.Dispose();
    }
}
