using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ContentPlanning.Caching;

/// <summary>
/// The process's one Redis multiplexer, handed to FusionCache's L2 (RedisCache), backplane and distributed locker through
/// their <c>ConnectionMultiplexerFactory</c>, so a node holds two sockets (commands, pub/sub) whatever uses Redis.
/// abortConnect=false: the host starts while Redis is down and the multiplexer reconnects by itself.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly ILogger _logger;
    private readonly Lazy<Task<IConnectionMultiplexer>>? _multiplexer;

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
        // RESP2 unless the connection string says otherwise: SE.Redis 3 defaults to RESP3, which carries pub/sub on the
        // interactive socket, and FusionCache's RedisBackplane reports a reconnect (which replays its auto-recovery
        // queue) only for the Subscription connection type: with RESP3 that report never comes and the nodes converge
        // on the auto-recovery timer alone (6.1 s measured after a Redis restart, against 2.5 s with RESP2).
        if (!connectionString.Contains("protocol=", StringComparison.OrdinalIgnoreCase)) configuration.Protocol = RedisProtocol.Resp2;
        IsConfigured = true;
        _multiplexer = new Lazy<Task<IConnectionMultiplexer>>(() => ConnectAsync(configuration));
    }

    /// <summary>False when no connection string is configured: the cache is L1-only.</summary>
    public bool IsConfigured { get; }

    /// <summary>True when the command connection is up.</summary>
    public bool IsConnected => _multiplexer is { IsValueCreated: true, Value.IsCompletedSuccessfully: true } m && m.Value.Result.IsConnected;

    /// <summary>A socket to Redis came back after a failure (raised once per socket).</summary>
    public event Action? Reconnected;

    /// <summary>
    /// The multiplexer now writes to another primary than before (a Sentinel failover, or a replica promoted by hand):
    /// raised with the old and the new endpoint. Not raised on a Cluster, whose primaries are many.
    /// </summary>
    public event Action<string, string>? PrimaryChanged;

    private string? _primary;

    /// <summary>The shared multiplexer (created on first use); throws when no Redis is configured.</summary>
    public Task<IConnectionMultiplexer> GetMultiplexerAsync() =>
        _multiplexer?.Value ?? throw new InvalidOperationException("No Redis connection string is configured.");

    private async Task<IConnectionMultiplexer> ConnectAsync(ConfigurationOptions configuration)
    {
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
        multiplexer.ConnectionFailed += (_, e) => Log.ConnectionLost(_logger, e.FailureType, e.ConnectionType, e.EndPoint, e.Exception);
        multiplexer.ConnectionRestored += (_, e) =>
        {
            Log.ConnectionRestored(_logger, e.ConnectionType, e.EndPoint);
            Reconnected?.Invoke();
            CheckPrimary(multiplexer);
        };
        // A role change seen by a reconfiguration (SE.Redis follows a Sentinel switch by reconfiguring).
        multiplexer.ConfigurationChanged += (_, _) => CheckPrimary(multiplexer);
        CheckPrimary(multiplexer);
        return multiplexer;
    }

    private void CheckPrimary(ConnectionMultiplexer multiplexer)
    {
        var primaries = multiplexer.GetServers().Where(s => s is { IsConnected: true, IsReplica: false, ServerType: ServerType.Standalone }).ToList();
        if (primaries.Count != 1) return;
        var primary = primaries[0].EndPoint.ToString()!;
        var previous = Interlocked.Exchange(ref _primary, primary);
        if (previous is null || previous == primary) return;
        Log.PrimaryChanged(_logger, previous, primary);
        PrimaryChanged?.Invoke(previous, primary);
    }

    public void Dispose()
    {
        if (_multiplexer is { IsValueCreated: true, Value.IsCompletedSuccessfully: true } m) m.Value.Result.Dispose();
    }
}
