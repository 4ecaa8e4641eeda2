using System.Diagnostics.Metrics;
using System.Threading.Channels;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Caching;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using StackExchange.Redis;

namespace ContentPlanning.Api.Features.CacheCoherence;

/// <summary>
/// LISTENs on the version trigger's channel over a connection of its own (a pooled one would be handed back and lose
/// its LISTEN) and evicts the notified users' answers: this node's L1 always, L2 and the other nodes' L1 by the one
/// node that first claims the notification in Redis. Writes through the API still invalidate synchronously; the
/// notification that follows them is a harmless second eviction.
/// </summary>
public sealed partial class UserChangeListener(
    IConfiguration configuration,
    IOptions<CacheCoherenceOptions> options,
    UserDataCache cache,
    IOptions<CacheSettings> cacheSettings,
    RedisConnection redis,
    ILogger<UserChangeListener> logger) : BackgroundService
{
    /// <summary>Prefix of the listening connection's application_name (operators find it in pg_stat_activity).</summary>
    public const string ApplicationNamePrefix = "cp-listener:";

    private static readonly TimeSpan ClaimLifetime = TimeSpan.FromMinutes(1);

    private static readonly Counter<long> Notifications = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.cache_coherence.notifications", description: "User-change notifications handled by this node's listener");

    private static readonly Counter<long> Reconnects = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.cache_coherence.reconnects", description: "Listener reconnects after a drop; each expired this node's L1");

    // One per run of ExecuteAsync, so the service can be stopped and started again (the measurement does).
    private Channel<string> _received = Channel.CreateUnbounded<string>();
    private volatile ListenerState _state = ListenerState.Starting;
    private long _handled;

    public enum ListenerState { Starting, Listening, Reconnecting, Disabled }

    public ListenerState State => _state;

    /// <summary>Notifications evicted so far on this node (tests wait on it).</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>The last payload evicted (tests send a sentinel after their writes and wait for it: delivery is in order).</summary>
    public string? LastHandled { get; private set; }

    /// <summary>The listening backend's process id while connected (tests terminate it).</summary>
    public int? BackendProcessId { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            _state = ListenerState.Disabled;
            return;
        }

        _received = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
        var evictions = EvictLoopAsync(settings.BatchSize, stoppingToken);
        await ListenLoopAsync(settings, stoppingToken);
        _received.Writer.TryComplete();
        await evictions;
    }

    private async Task ListenLoopAsync(CacheCoherenceOptions settings, CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"))
        {
            Pooling = false,
            ApplicationName = (ApplicationNamePrefix + cacheSettings.Value.NodeId) is var name && name.Length > 63 ? name[..63] : name,
            // A half-open socket must surface as an error, not as silence that looks like "no writes".
            KeepAlive = 10,
        };
        var connected = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => _received.Writer.TryWrite(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN \"{settings.Channel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                BackendProcessId = connection.ProcessID;
                if (connected)
                {
                    // Notifications sent while nobody listened are lost: nothing in L1 from before the drop can be
                    // trusted. Expired, not removed, so fail-safe can still answer while the database is down.
                    await cache.ExpireAllOnThisNodeAsync(stoppingToken);
                    Reconnects.Add(1);
                    LogResumed(logger, settings.Channel);
                }

                connected = true;
                _state = ListenerState.Listening;
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                // Also before the first connect: entries cached meanwhile were never covered by a listener.
                connected = true;
                BackendProcessId = null;
                _state = ListenerState.Reconnecting;
                LogDropped(logger, ex.GetType().Name, ex.Message);
                await Task.Delay(settings.ReconnectDelay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private async Task EvictLoopAsync(int batchSize, CancellationToken stoppingToken)
    {
        var batch = new List<string>(batchSize);
        while (await _received.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < batchSize && _received.Reader.TryRead(out var payload))
            {
                batch.Add(payload);
            }

            try
            {
                await EvictAsync(batch, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogEvictionFailed(logger, batch.Count, ex);
            }
        }
    }

    /// <summary>Evicts one batch of '&lt;xact&gt;:&lt;user id&gt;' payloads.</summary>
    internal async Task EvictAsync(IReadOnlyList<string> payloads, CancellationToken cancellationToken)
    {
        var notifications = payloads.Distinct(StringComparer.Ordinal).ToList();
        foreach (var payload in notifications)
        {
            await cache.InvalidateOnThisNodeAsync(UserId(payload), cancellationToken);
        }

        foreach (var payload in await ClaimAsync(notifications))
        {
            await cache.InvalidateAsync(UserId(payload), cancellationToken);
        }

        Notifications.Add(notifications.Count);
        LastHandled = payloads[^1];
        Interlocked.Add(ref _handled, payloads.Count);
    }

    /// <summary>
    /// The notifications this node removes from L2: those it is first to SET NX in Redis (one pipelined round trip per
    /// batch). Without Redis there is no L2 to clean and the claim is moot.
    /// </summary>
    private async Task<IReadOnlyList<string>> ClaimAsync(List<string> notifications)
    {
        if (!redis.IsConfigured || !redis.IsConnected) return [];
        var database = (await redis.GetMultiplexerAsync()).GetDatabase();
        var node = cacheSettings.Value.NodeId;
        var claims = notifications
            .Select(payload => database.StringSetAsync($"{cacheSettings.Value.Name}:coherence:{payload}", node, ClaimLifetime, When.NotExists))
            .ToList();
        try
        {
            await Task.WhenAll(claims);
        }
        catch (RedisException ex)
        {
            LogClaimFailed(logger, ex.Message);
        }

        return notifications.Where((_, i) => claims[i].IsCompletedSuccessfully && claims[i].Result).ToList();
    }

    private static string UserId(string payload)
    {
        var separator = payload.IndexOf(':', StringComparison.Ordinal);
        return separator < 0 ? payload : payload[(separator + 1)..];
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Change listener on '{Channel}' reconnected: notifications may have been missed, this node's L1 entries are expired")]
    private static partial void LogResumed(ILogger logger, string channel);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Change listener connection lost ({Error}: {Detail}); reconnecting")]
    private static partial void LogDropped(ILogger logger, string error, string detail);

    [LoggerMessage(Level = LogLevel.Error, Message = "Evicting a batch of {Count} change notifications failed")]
    private static partial void LogEvictionFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming change notifications in Redis failed ({Detail}); only this node's L1 was evicted")]
    private static partial void LogClaimFailed(ILogger logger, string detail);

    /// <summary>Ready shows the listener: degraded (still 200) while it reconnects, since answers may then be stale up to their duration.</summary>
    internal sealed class HealthCheck(UserChangeListener listener, IOptions<CacheCoherenceOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var data = new Dictionary<string, object>
            {
                ["state"] = listener.State.ToString().ToLowerInvariant(),
                ["channel"] = options.Value.Channel,
                ["notifications_handled"] = listener.Handled,
            };
            return Task.FromResult(listener.State switch
            {
                ListenerState.Listening => HealthCheckResult.Healthy("listening", data),
                ListenerState.Disabled => HealthCheckResult.Healthy("disabled (CacheCoherence__Enabled=false)", data),
                _ => HealthCheckResult.Degraded($"{listener.State.ToString().ToLowerInvariant()}: writes made outside the API may be served stale", data: data),
            });
        }
    }
}
