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
/// answers that the notified kind of change can have changed (<see cref="UserChange"/>): this node's L1 always, L2 and the
/// other nodes' L1 by the one node that first claims the notification in Redis. That node then refreshes the user's
/// comprehensive data (and, after a strategy change, the active strategy) once for the cluster: it recomputes them after
/// its own eviction and stores them in every tier, so the next read on any node is a cache hit showing the change.
/// Writes through the API still invalidate synchronously before they answer; the notification that follows them is a
/// second eviction followed by the refresh. While the listener cannot hear (connection lost, echo missing),
/// <see cref="CoherenceGate"/> stops vouching for cached answers; once it hears again this node's L1 is expired (whatever
/// changed meanwhile was not heard) and the gate vouches again.
/// </summary>
public sealed partial class UserChangeListener(
    IOptions<CacheCoherenceOptions> options,
    UserDataCache cache,
    IServiceScopeFactory scopes,
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

    // A claimed batch larger than this is evicted only (a bulk SQL update of many users): refreshing them all at once would
    // recompute answers nobody may read soon, where the eviction lets the next read of each do it.
    internal const int RefreshLimit = 32;

    private static readonly Counter<long> Refreshes = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.cache_coherence.refreshes", description: "Answers recomputed and stored after a change this node claimed");

    private readonly Channel<string> _received = System.Threading.Channels.Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Channel<string> _toRefresh = System.Threading.Channels.Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private volatile ListenerState _state = options.Value.Enabled ? ListenerState.Starting : ListenerState.Disabled;
    private long _handled;
    private long _refreshed;
    private int _pendingRefreshes;

    public enum ListenerState { Starting, Listening, Reconnecting, Disabled }

    public ListenerState State => _state;

    /// <summary>Notifications evicted so far on this node (tests wait on it).</summary>
    public long Handled => Interlocked.Read(ref _handled);

    /// <summary>The last payload evicted (tests send a sentinel after their writes and wait for it: delivery is in order).</summary>
    public string? LastHandled { get; private set; }

    /// <summary>Notifications this node claimed and has refreshed (or failed to refresh, logged) so far (tests wait on it).</summary>
    public long Refreshed => Interlocked.Read(ref _refreshed);

    /// <summary>True when no claimed refresh is queued or running (tests wait for it after their writes).</summary>
    public bool RefreshesIdle => Volatile.Read(ref _pendingRefreshes) == 0;

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

        await Task.WhenAll(EvictLoopAsync(settings.BatchSize, stoppingToken), RefreshLoopAsync(stoppingToken));
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

    /// <summary>
    /// Refreshes, one at a time and apart from the eviction loop (an eviction never waits for a recomputation), what this
    /// node claimed: a forced read of each answer the change touched, which stores it in L1, L2 and announces it.
    /// </summary>
    private async Task RefreshLoopAsync(CancellationToken stoppingToken)
    {
        while (await WaitAsync(_toRefresh.Reader, stoppingToken))
        {
            while (_toRefresh.Reader.TryRead(out var payload))
            {
                var (userId, change) = Parse(payload);
                try
                {
                    await using var scope = scopes.CreateAsyncScope();
                    var mediator = scope.ServiceProvider.GetRequiredService<MediatR.IMediator>();
                    await mediator.Send(new GetComprehensiveUserData.GetComprehensiveUserData.Query(userId, null, ForceRefresh: true) { AwaitDistribution = true }, stoppingToken);
                    if (change == UserChange.Strategy)
                    {
                        await mediator.Send(new GetActiveStrategy.GetActiveStrategy.Query(userId, ForceRefresh: true) { AwaitDistribution = true }, stoppingToken);
                    }

                    Refreshes.Add(1);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // The eviction stands: the next read recomputes.
                    LogRefreshFailed(logger, userId, ex);
                }

                Interlocked.Increment(ref _refreshed);
                Interlocked.Decrement(ref _pendingRefreshes);
            }
        }
    }

    private Task<bool> WaitAsync(CancellationToken stoppingToken) => WaitAsync(_received.Reader, stoppingToken);

    private static async Task<bool> WaitAsync(ChannelReader<string> reader, CancellationToken stoppingToken)
    {
        try
        {
            return await reader.WaitToReadAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>Evicts one batch of '&lt;xact&gt;.&lt;kind&gt;:&lt;user id&gt;' payloads (or 0007's '&lt;xact&gt;:&lt;user id&gt;').</summary>
    internal async Task EvictAsync(IReadOnlyList<string> payloads, CancellationToken cancellationToken)
    {
        var notifications = payloads.Distinct(StringComparer.Ordinal).ToList();
        foreach (var payload in notifications)
        {
            var (userId, change) = Parse(payload);
            await cache.InvalidateOnThisNodeAsync(userId, change, cancellationToken);
        }

        var claimed = await ClaimAsync(notifications);
        var refresh = claimed.Count <= RefreshLimit;
        foreach (var payload in claimed)
        {
            var (userId, change) = Parse(payload);
            await cache.InvalidateAsync(userId, change, inBackground: !refresh, cancellationToken);
            if (refresh && !IsSentinel(payload))
            {
                // After this node's own eviction: what the refresh stores is newer than every marker that eviction wrote.
                Interlocked.Increment(ref _pendingRefreshes);
                _toRefresh.Writer.TryWrite(payload);
            }
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

    /// <summary>The user and what changed: '&lt;xact&gt;.d:&lt;user&gt;' is <see cref="UserChange.Data"/>; anything else (a strategy, or 0007's payload without a kind) may have changed every answer.</summary>
    internal static (string UserId, UserChange Change) Parse(string payload)
    {
        var separator = payload.IndexOf(':', StringComparison.Ordinal);
        if (separator < 0) return (payload, UserChange.Strategy);
        var head = payload.AsSpan(0, separator);
        var dot = head.IndexOf('.');
        var change = dot >= 0 && head[(dot + 1)..] is "d" ? UserChange.Data : UserChange.Strategy;
        return (payload[(separator + 1)..], change);
    }

    // Tests' sentinels ('0:sync-...') name no user: nothing to recompute for them.
    private static bool IsSentinel(string payload) => payload.StartsWith("0:", StringComparison.Ordinal);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Change listener on '{Channel}' reconnected: notifications may have been missed, this node's L1 entries are expired")]
    private static partial void LogResumed(ILogger logger, string channel);

    [LoggerMessage(Level = LogLevel.Error, Message = "Evicting a batch of {Count} change notifications failed")]
    private static partial void LogEvictionFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refreshing the answers of {UserId} after a change failed; they stay evicted")]
    private static partial void LogRefreshFailed(ILogger logger, string userId, Exception exception);

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
