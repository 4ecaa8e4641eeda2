using System.Diagnostics.Metrics;
using System.Threading.Channels;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Hosting;
using ContentPlanning.Api.Infrastructure.Telemetry;
using ContentPlanning.Caching;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ContentPlanning.Api.Features.CacheCoherence;

/// <summary>
/// Hears the version trigger's channel through the node's <see cref="DatabaseListener"/> and evicts the notified users'
/// answers: this node's L1 always, L2 and the other nodes' L1 by the one node that first claims the notification in
/// Redis. Writes through the API still invalidate synchronously; the notification that follows them is a harmless second
/// eviction. While the listener cannot hear (connection lost, echo missing), <see cref="CoherenceGate"/> stops vouching for
/// cached answers; once it hears again this node's L1 is expired (whatever changed meanwhile was not heard) and the gate
/// vouches again.
/// </summary>
public sealed partial class UserChangeListener(
    IOptions<CacheCoherenceOptions> options,
    UserDataCache cache,
    IOptions<CacheSettings> cacheSettings,
    NodeIdentity nodeIdentity,
    RedisConnection redis,
    CoherenceGate gate,
    ILogger<UserChangeListener> logger) : BackgroundService, IDatabaseNotificationHandler
{
    /// <summary>Prefix of the listening connection's application_name (operators find it in pg_stat_activity).</summary>
    public const string ApplicationNamePrefix = DatabaseConnections.ListenerNamePrefix;

    private static readonly TimeSpan ClaimLifetime = TimeSpan.FromMinutes(1);

    private static readonly Counter<long> Notifications = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.cache_coherence.notifications", description: "User-change notifications handled by this node's listener");

    private static readonly Counter<long> Reconnects = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.cache_coherence.reconnects", description: "Listener reconnects after a drop; each expired this node's L1");

    private readonly Channel<string> _received = System.Threading.Channels.Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private volatile ListenerState _state = options.Value.Enabled ? ListenerState.Starting : ListenerState.Disabled;
    private long _handled;

    public enum ListenerState { Starting, Listening, Reconnecting, Disabled }

    public ListenerState State => _state;

    /// <summary>Notifications evicted so far on this node (tests wait on it).</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>The last payload evicted (tests send a sentinel after their writes and wait for it: delivery is in order).</summary>
    public string? LastHandled { get; private set; }

    /// <summary>The listening backend's process id while connected (tests terminate it).</summary>
    public int? BackendProcessId { get; private set; }

    public string Channel => options.Value.Channel;

    public TimeSpan? ReconnectDelay => options.Value.ReconnectDelay;

    public async Task OnListeningAsync(bool resumed, int backendProcessId, CancellationToken cancellationToken)
    {
        BackendProcessId = backendProcessId;
        if (resumed)
        {
            // Notifications sent while nobody listened are lost: nothing in L1 from before the drop can be trusted.
            // Expired, not removed, so fail-safe can still answer while the database is down.
            await cache.ExpireAllOnThisNodeAsync(cancellationToken);
            Reconnects.Add(1);
            LogResumed(logger, Channel);
        }

        _state = ListenerState.Listening;
        gate.Resume();
    }

    public void OnListeningLost()
    {
        gate.Suspend();
        BackendProcessId = null;
        _state = ListenerState.Reconnecting;
    }

    public void OnNotification(string payload) => _received.Writer.TryWrite(payload);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (!settings.Enabled)
        {
            return;
        }

        await EvictLoopAsync(settings.BatchSize, stoppingToken);
    }

    private async Task EvictLoopAsync(int batchSize, CancellationToken stoppingToken)
    {
        var batch = new List<string>(batchSize);
        while (await WaitAsync(stoppingToken))
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

    private async Task<bool> WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            return await _received.Reader.WaitToReadAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
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
        var node = nodeIdentity.Id;
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Evicting a batch of {Count} change notifications failed")]
    private static partial void LogEvictionFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Claiming change notifications in Redis failed ({Detail}); only this node's L1 was evicted")]
    private static partial void LogClaimFailed(ILogger logger, string detail);

    /// <summary>
    /// Ready shows the listener: degraded (still 200) while it does not hear notifications (starting, reconnecting, or its
    /// echo check failed); meanwhile this node reports its cached per-user answers as stale.
    /// </summary>
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
                _ => HealthCheckResult.Degraded(
                    $"{listener.State.ToString().ToLowerInvariant()}: not hearing writes made outside the API; cached answers are reported stale until it listens again",
                    data: data),
            });
        }
    }
}
