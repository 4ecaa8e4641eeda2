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
        // The pub/sub connection may come up a moment after the command connection (then nothing was subscribed):
        // try again while Redis answers, for a bounded time (the maintenance tick goes on trying after that).
        var deadline = DateTime.UtcNow + SubscribeWait;
        while (_options.BackplaneEnabled && !_subscribed && _redis.IsConnected && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
            await EnsureSubscribedAsync();
        }
    }

    private static readonly TimeSpan SubscribeWait = TimeSpan.FromSeconds(5);

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
        var subscriber = multiplexer.GetSubscriber();
        try
        {
            await subscriber.SubscribeAsync(_keys.Channel, _handler);
            // StackExchange.Redis 1.x: while its pub/sub connection is not up (still in its handshake after the
            // command connection, or Redis down at start), SubscribeAsync only records the handler and completes at
            // once. The SUBSCRIBE reaches Redis only whenever the library next revalidates its subscriptions: messages
            // published meanwhile are lost, and another attempt would record the handler twice (every message handled
            // twice). Only a subscription bound to a server counts; otherwise drop the record and try again.
            if (subscriber.SubscribedEndpoint(_keys.Channel) is null)
            {
                ForgetLocalSubscription(subscriber);
                Log.BackplaneNotSubscribed(_logger, Name);
                return;
            }
            _subscribed = true;
        }
        catch (Exception ex)
        {
            // A retry would otherwise add the handler a second time: every message would be handled twice.
            ForgetLocalSubscription(subscriber);
            OnRedisError("subscribe", ex);
        }
    }

    private void ForgetLocalSubscription(ISubscriber subscriber)
    {
        try
        {
            // Removes the handler locally at once; an UNSUBSCRIBE is only sent for a subscription bound to a server.
            subscriber.Unsubscribe(_keys.Channel, _handler, CommandFlags.FireAndForget);
        }
        catch (RedisException)
        {
            // The handler is removed before anything is sent; the connection is failing anyway.
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
