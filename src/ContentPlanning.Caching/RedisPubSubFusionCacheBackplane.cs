using Microsoft.Extensions.Logging;
using StackExchange.Redis;
using ZiggyCreatures.Caching.Fusion;
using ZiggyCreatures.Caching.Fusion.Backplane;

namespace ContentPlanning.Caching;

/// <summary>
/// Stands in for ZiggyCreatures.FusionCache.Backplane.StackExchangeRedis (no version restores here): FusionCache's
/// backplane over Redis pub/sub on the process's shared multiplexer, messages in FusionCache's own binary format
/// (<see cref="BackplaneMessage.ToByteArray"/>), so nodes running the official package interoperate. Connects and
/// reconnects of the pub/sub socket are reported through the subscription's connect handler: that is what makes
/// FusionCache replay its auto-recovery queue after an outage. Swappable by one registration line.
/// </summary>
public sealed class RedisPubSubFusionCacheBackplane(RedisConnection redis, ILogger<RedisPubSubFusionCacheBackplane> logger)
    : IFusionCacheBackplane
{
    private const string InternalKeyMarker = "__fc:";
    private readonly object _gate = new();
    private BackplaneSubscriptionOptions? _subscription;
    private RedisChannel _channel;
    private IConnectionMultiplexer? _multiplexer;
    private Action<RedisChannel, RedisValue>? _handler;

    /// <summary>True once Redis has confirmed the SUBSCRIBE and the pub/sub socket is up.</summary>
    public bool IsSubscribed => _multiplexer is { } m && _handler is not null && m.GetSubscriber().IsConnected(_channel);

    public void Subscribe(BackplaneSubscriptionOptions options) => SubscribeAsync(options).AsTask().GetAwaiter().GetResult();

    public async ValueTask SubscribeAsync(BackplaneSubscriptionOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.ChannelName);
        var multiplexer = await redis.GetMultiplexerAsync().ConfigureAwait(false);
        lock (_gate)
        {
            if (_handler is not null) return; // one subscription per cache instance; a retry must not register twice
            _subscription = options;
            _channel = RedisChannel.Literal(options.ChannelName);
            _multiplexer = multiplexer;
            _handler = OnMessage;
            multiplexer.ConnectionRestored += OnRestored;
        }
        try
        {
            // SE.Redis keeps the subscription and re-sends it on every reconnect, also when this first SUBSCRIBE fails.
            await multiplexer.GetSubscriber().SubscribeAsync(_channel, _handler).ConfigureAwait(false);
        }
        catch (RedisException)
        {
            // Redis down at start: the restored event reports the connection when it comes.
            return;
        }
        options.ConnectHandler?.Invoke(new BackplaneConnectionInfo(false));
    }

    public void Unsubscribe() => UnsubscribeAsync().AsTask().GetAwaiter().GetResult();

    public async ValueTask UnsubscribeAsync()
    {
        IConnectionMultiplexer? multiplexer;
        Action<RedisChannel, RedisValue>? handler;
        lock (_gate)
        {
            (multiplexer, handler) = (_multiplexer, _handler);
            if (multiplexer is not null) multiplexer.ConnectionRestored -= OnRestored;
            (_multiplexer, _handler, _subscription) = (null, null, null);
        }
        // The multiplexer is shared with L2: unsubscribe this handler only, never dispose the connection.
        if (multiplexer is not null && handler is not null)
        {
            try { await multiplexer.GetSubscriber().UnsubscribeAsync(_channel, handler).ConfigureAwait(false); }
            catch (RedisException) { }
        }
    }

    public void Publish(BackplaneMessage message, FusionCacheEntryOptions options, CancellationToken token = default) =>
        PublishAsync(message, options, token).AsTask().GetAwaiter().GetResult();

    public async ValueTask PublishAsync(BackplaneMessage message, FusionCacheEntryOptions options, CancellationToken token = default)
    {
        token.ThrowIfCancellationRequested();
        var multiplexer = _multiplexer ?? throw new InvalidOperationException("The backplane is not subscribed.");
        // A failure throws to FusionCache, which queues the message for auto-recovery.
        await multiplexer.GetSubscriber().PublishAsync(_channel, BackplaneMessage.ToByteArray(message)).ConfigureAwait(false);
    }

    private void OnMessage(RedisChannel channel, RedisValue value)
    {
        var subscription = _subscription;
        if (subscription is null) return;
        BackplaneMessage message;
        try
        {
            message = BackplaneMessage.FromByteArray((byte[])value!);
            // FusionCache answers "set" by re-reading the entry from L2 into L1 at once: one Redis round trip per
            // message per node, mostly for entries nobody reads again there. Handled as "expire", the old value
            // stays as a fail-safe fallback and the next read (if any) fetches the new one from L2.
            // FusionCache's own markers (clear, remove-by-tag: keys with "__fc:") must be re-read: that is how a node learns of them.
            if (message.Action == BackplaneMessageAction.EntrySet && message.CacheKey is { } key && !key.Contains(InternalKeyMarker, StringComparison.Ordinal))
            {
                message = BackplaneMessage.CreateForEntryExpire(message.SourceId!, key, message.Timestamp);
            }
        }
        catch (Exception ex)
        {
            Log.MalformedBackplaneMessage(logger, channel.ToString(), ex);
            return;
        }
        // FusionCache may read L2 while handling a message: never on SE.Redis's reader.
        _ = Task.Run(async () =>
        {
            try
            {
                if (subscription.IncomingMessageHandlerAsync is { } handleAsync) await handleAsync(message).ConfigureAwait(false);
                else subscription.IncomingMessageHandler?.Invoke(message);
            }
            catch (Exception ex)
            {
                Log.BackplaneHandlerFailed(logger, channel.ToString(), ex);
            }
        });
    }

    private void OnRestored(object? sender, ConnectionFailedEventArgs e)
    {
        // RESP3 carries pub/sub on the interactive connection: either one coming back is a reconnect of the backplane.
        _subscription?.ConnectHandler?.Invoke(new BackplaneConnectionInfo(true));
    }
}
