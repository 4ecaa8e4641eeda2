using System.Globalization;
using StackExchange.Redis;

namespace ContentPlanning.Caching;

/// <summary>
/// The backplane: one pub/sub channel per cache name. Messages are <c>action|time|node|key-or-tag</c>. A receiver only
/// evicts or expires its L1 entry; it never reads L2 per message, the next read of that key does.
/// </summary>
internal sealed partial class TieredCache
{
    private static readonly TimeSpan MaintenanceInterval = TimeSpan.FromMilliseconds(500);

    private Action<RedisChannel, RedisValue>? _handler;
    private volatile bool _subscribed;
    private readonly Lock _subscriptionGate = new();
    private Task? _subscription;

    private string Message(char action, string subject) =>
        string.Create(CultureInfo.InvariantCulture, $"{action}|{_time.GetUtcNow().UtcTicks}|{_options.NodeId}|{subject}");

    private void InitializeDistributed(RedisConnection redis)
    {
        _handler = OnBackplaneMessage;
        redis.Restored += OnConnectionRestored;
        _maintenanceTimer = TimeProvider.System.CreateTimer(static state => ((TieredCache)state!).OnMaintenanceTick(), this,
            MaintenanceInterval, MaintenanceInterval);
        _ = redis.Ready.ContinueWith(static (_, state) => ((TieredCache)state!).EnsureSubscribedAsync(), this,
            CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Completes when the first connection attempt is over and, if Redis answered, the backplane is subscribed.</summary>
    internal async Task WhenReadyAsync()
    {
        if (_redis is null) return;
        await _redis.Ready;
        await EnsureSubscribedAsync();
    }

    internal bool IsBackplaneSubscribed => _subscribed;

    /// <summary>Subscribes once; concurrent callers share the attempt in flight.</summary>
    private Task EnsureSubscribedAsync()
    {
        if (!_options.BackplaneEnabled || _subscribed || _redis?.Multiplexer is null) return Task.CompletedTask;
        lock (_subscriptionGate)
        {
            if (_subscription is { IsCompleted: false }) return _subscription;
            return _subscription = SubscribeAsync(_redis.Multiplexer);
        }
    }

    private async Task SubscribeAsync(ConnectionMultiplexer multiplexer)
    {
        try
        {
            await multiplexer.GetSubscriber().SubscribeAsync(_keys.Channel, _handler);
            _subscribed = true;
        }
        catch (Exception ex)
        {
            OnRedisError("subscribe", ex);
        }
    }

    private void OnConnectionRestored(bool interactive)
    {
        // Messages from other nodes may have been lost meanwhile: nothing in L1 from before now is trusted as fresh.
        Interlocked.Increment(ref _generation);
        _ = EnsureSubscribedAsync();
        if (!interactive) return;
        _breaker.Close();
        _ = ReplayAsync();
    }

    private void OnBackplaneMessage(RedisChannel channel, RedisValue value)
    {
        var text = (string?)value;
        var parts = text?.Split('|', 4);
        if (parts is not { Length: 4 } || parts[0].Length != 1)
        {
            Log.MalformedBackplaneMessage(_logger, Name);
            return;
        }
        if (string.Equals(parts[2], _options.NodeId, StringComparison.Ordinal)) return;

        Interlocked.Increment(ref _backplaneReceived);
        var subject = parts[3];
        switch (parts[0][0])
        {
            case 'S':
            case 'E':
                // Expired rather than removed: the old value stays available for fail-safe.
                ExpireMemory(subject);
                break;
            case 'R':
                _memory.Remove(subject);
                break;
            case 'T':
                RemoveMemoryByTag(subject);
                break;
            case 'C':
                ClearMemory();
                break;
            default:
                Log.MalformedBackplaneMessage(_logger, Name);
                break;
        }
    }

    private void DisposeDistributed()
    {
        if (_redis is null) return;
        _redis.Restored -= OnConnectionRestored;
        _maintenanceTimer?.Dispose();
        if (_subscribed && _redis.Multiplexer is { IsConnected: true } multiplexer)
        {
            try
            {
                multiplexer.GetSubscriber().Unsubscribe(_keys.Channel, _handler, CommandFlags.FireAndForget);
            }
            catch (RedisException)
            {
                // The connection is going away with the process anyway.
            }
        }
    }
}
