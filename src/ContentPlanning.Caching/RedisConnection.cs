using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ContentPlanning.Caching;

/// <summary>
/// The process's one Redis connection for every named cache (a singleton). Connects in the background with
/// abortConnect=false, so the host starts and the caches run L1-only until Redis answers; reconnection is automatic.
/// </summary>
public sealed class RedisConnection : IDisposable
{
    private readonly ILogger _logger;
    private volatile ConnectionMultiplexer? _multiplexer;
    private volatile bool _interactiveUp;
    private volatile bool _disposed;
    private int _confirming;
    private ITimer? _watchdog;

    /// <param name="connectionString">StackExchange.Redis configuration string; null or empty means no Redis (L1-only).</param>
    public RedisConnection(string? connectionString, ILogger<RedisConnection> logger)
    {
        _logger = logger;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            Ready = Task.CompletedTask;
            return;
        }

        var configuration = ConfigurationOptions.Parse(connectionString);
        configuration.AbortOnConnectFail = false;
        IsConfigured = true;
        Ready = ConnectAsync(configuration);
    }

    /// <summary>False when no connection string is configured: the caches are L1-only.</summary>
    public bool IsConfigured { get; }

    /// <summary>
    /// True when commands can be sent. The multiplexer's own IsConnected turns true as soon as either of its two
    /// connections (commands, pub/sub) is back; a command sent before the command connection is back fails.
    /// </summary>
    public bool IsConnected => _interactiveUp && _multiplexer?.IsConnected == true;

    internal ConnectionMultiplexer? Multiplexer => _multiplexer;

    /// <summary>Completes when the first connection attempt has finished, successful or not.</summary>
    internal Task Ready { get; }

    /// <summary>A connection came back; the argument says whether it is the command (interactive) connection.</summary>
    internal event Action<bool>? Restored;

    private async Task ConnectAsync(ConfigurationOptions configuration)
    {
        try
        {
            var multiplexer = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
            // Handlers must not be serialised behind each other: a slow one would delay every other message.
            multiplexer.PreserveAsyncOrder = false;
            multiplexer.ConnectionFailed += (_, e) =>
            {
                if (e.ConnectionType == ConnectionType.Interactive) _interactiveUp = false;
                Log.ConnectionLost(_logger, e.FailureType.ToString(), e.EndPoint?.ToString() ?? "?", e.Exception);
            };
            multiplexer.ConnectionRestored += (_, e) =>
            {
                Log.ConnectionRestored(_logger, e.EndPoint?.ToString() ?? "?");
                if (e.ConnectionType == ConnectionType.Interactive) _ = ConfirmInteractiveAsync(multiplexer);
                else Restored?.Invoke(false);
            };
            _interactiveUp = multiplexer.IsConnected;
            // A first connection that only succeeds later may come without a restored event: look every second.
            _watchdog = TimeProvider.System.CreateTimer(static state => ((RedisConnection)state!).OnWatchdog(), this,
                TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            if (_disposed)
            {
                multiplexer.Dispose();
                return;
            }
            _multiplexer = multiplexer;
        }
        catch (Exception ex)
        {
            // Only a malformed configuration gets here (abortConnect=false); the caches stay L1-only.
            Log.ConnectionLost(_logger, "Configuration", configuration.ToString(), ex);
        }
    }

    /// <summary>
    /// The restored event comes before the command connection has finished its handshake; commands sent in that
    /// window fail. Declare it up only once a PING answers.
    /// </summary>
    private async Task ConfirmInteractiveAsync(ConnectionMultiplexer multiplexer)
    {
        if (Interlocked.Exchange(ref _confirming, 1) == 1) return;
        try
        {
            for (var attempt = 0; attempt < 100 && !_disposed; attempt++)
            {
                try
                {
                    await multiplexer.GetDatabase().PingAsync().ConfigureAwait(false);
                    _interactiveUp = true;
                    Restored?.Invoke(true);
                    return;
                }
                catch (RedisException)
                {
                    await Task.Delay(50).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _confirming, 0);
        }
    }

    private void OnWatchdog()
    {
        if (!_interactiveUp && _multiplexer is { IsConnected: true } multiplexer) _ = ConfirmInteractiveAsync(multiplexer);
    }

    public void Dispose()
    {
        _disposed = true;
        _watchdog?.Dispose();
        _multiplexer?.Dispose();
    }
}
