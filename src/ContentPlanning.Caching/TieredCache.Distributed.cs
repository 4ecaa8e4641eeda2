using System.Collections.Concurrent;
using System.Globalization;
using StackExchange.Redis;

namespace ContentPlanning.Caching;

/// <summary>
/// L2 (Redis) and the outage queue. No Redis failure reaches a caller: errors open the circuit breaker, and writes
/// that could not be made are queued (one per key, newest wins, bounded) and replayed when the connection is back.
/// </summary>
internal sealed partial class TieredCache
{
    private readonly RedisConnection? _redis;
    private readonly CircuitBreaker _breaker;
    private readonly RedisKeys _keys;
    private readonly ConcurrentDictionary<string, PendingOperation> _pending = new(StringComparer.Ordinal);
    private int _replaying;
    private ITimer? _maintenanceTimer;
    private int _queueFullLogged;

    private bool DistributedUsable => _redis is { IsConnected: true } && _breaker.IsClosed;

    /// <summary>Operations waiting for Redis to come back.</summary>
    internal int PendingOperations => _pending.Count;

    public ValueTask SetAsync<T>(string key, T value, CacheEntryOptions? options = null, IReadOnlyCollection<string>? tags = null,
        CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        return new ValueTask(Store(key, value, opts, MergeTags(tags, null), _time.GetUtcNow().UtcTicks));
    }

    public ValueTask RemoveAsync(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        _memory.Remove(key);
        var entryKey = _keys.Entry(key);
        return new ValueTask(Distribute("k:" + key, opts, "remove", db => db.KeyDeleteAsync(entryKey), Message('R', key)));
    }

    public ValueTask ExpireAsync(string key, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        var now = _time.GetUtcNow().UtcTicks;
        ExpireMemory(key);
        var entryKey = _keys.Entry(key);
        RedisValue[] args = [DistributedEnvelope.Header, DistributedEnvelope.ExpiryPosition, DistributedEnvelope.Ticks(now), DistributedEnvelope.CreatedPosition];
        return new ValueTask(Distribute("k:" + key, opts, "expire",
            db => db.ScriptEvaluateAsync(LuaScripts.Expire, [entryKey], args), Message('E', key)));
    }

    public ValueTask RemoveByTagAsync(string tag, CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        RemoveMemoryByTag(tag);
        RedisKey[] keys = [_keys.TagMarker(tag), _keys.TagSet(tag)];
        RedisValue[] args = [DistributedEnvelope.Ticks(_time.GetUtcNow().UtcTicks), (long)_options.MarkerRetention.TotalMilliseconds];
        return new ValueTask(Distribute("t:" + tag, opts, "remove_by_tag",
            db => db.ScriptEvaluateAsync(LuaScripts.Invalidate, keys, args), Message('T', tag)));
    }

    public ValueTask ClearAsync(CacheEntryOptions? options = null, CancellationToken cancellationToken = default)
    {
        var opts = options ?? _defaults;
        ClearMemory();
        RedisKey[] keys = [_keys.ClearMarker];
        RedisValue[] args = [DistributedEnvelope.Ticks(_time.GetUtcNow().UtcTicks), (long)_options.MarkerRetention.TotalMilliseconds];
        return new ValueTask(Distribute("c:", opts, "clear",
            db => db.ScriptEvaluateAsync(LuaScripts.Invalidate, keys, args), Message('C', string.Empty)));
    }

    private Task WriteDistributed<T>(string key, T value, long createdAt, long logicalExpiry, long failSafeExpiry, string[]? tags,
        CacheEntryOptions opts)
    {
        Func<IDatabase, Task>? write = null;
        if (!opts.SkipDistributedCache)
        {
            var envelope = DistributedEnvelope.Write(value, createdAt, logicalExpiry, failSafeExpiry, tags, _options.JsonSerializerOptions);
            var ttl = Math.Max(1, (long)TimeSpan.FromTicks(failSafeExpiry - createdAt).TotalMilliseconds);
            var tagSetTtl = Math.Max(ttl, (long)_options.MarkerRetention.TotalMilliseconds);
            var args = new RedisValue[6 + (tags?.Length ?? 0)];
            args[0] = envelope;
            args[1] = ttl;
            args[2] = DistributedEnvelope.Header;
            args[3] = DistributedEnvelope.CreatedPosition;
            args[4] = _keys.TagSetPrefix;
            args[5] = tagSetTtl;
            for (var i = 0; i < (tags?.Length ?? 0); i++) args[6 + i] = tags![i];
            RedisKey[] keys = [_keys.Entry(key)];
            write = db => db.ScriptEvaluateAsync(LuaScripts.Write, keys, args);
        }
        return Distribute("k:" + key, opts, "set", write, Message('S', key));
    }

    /// <summary>The L2 write, then the backplane message (in that order, so a node evicting on the message re-reads the new value).</summary>
    private Task Distribute(string replayKey, CacheEntryOptions opts, string operation, Func<IDatabase, Task>? write, string message)
    {
        if (_redis is null) return Task.CompletedTask;
        if (opts.SkipDistributedCache) write = null;
        var publish = _options.BackplaneEnabled && !opts.SkipBackplane;
        if (write is null && !publish) return Task.CompletedTask;

        var task = DistributeAsync(replayKey, operation, write, publish ? message : null);
        return _options.BackgroundDistributedOperations ? Task.CompletedTask : task;
    }

    private async Task DistributeAsync(string replayKey, string operation, Func<IDatabase, Task>? write, string? message)
    {
        // Both commands are issued before either is awaited: one connection, one pipeline, so Redis runs the write
        // before the PUBLISH and a node reacting to the message reads the new value, without a second round trip.
        var written = write is null ? null : RunOrQueueAsync(new PendingOperation("l2:" + replayKey, operation, write, null), replay: false);
        var published = message is null ? null : RunOrQueueAsync(new PendingOperation("bp:" + replayKey, "publish", null, message), replay: false);
        if (written is not null) await written;
        if (published is not null) await published;
    }

    private async Task<bool> RunOrQueueAsync(PendingOperation operation, bool replay)
    {
        if (!DistributedUsable)
        {
            Enqueue(operation, replay);
            return false;
        }

        using var activity = CacheTelemetry.Start(operation.Message is null ? "distributed." + operation.Name : "backplane.publish", Name);
        try
        {
            var db = _redis!.Multiplexer!.GetDatabase();
            if (operation.Write is not null)
            {
                var write = operation.Write(db);
                if (!_options.BackgroundDistributedOperations) write = write.WaitAsync(_options.DistributedOperationTimeout);
                await write;
            }
            else
            {
                await db.PublishAsync(_keys.Channel, operation.Message);
                Interlocked.Increment(ref _backplaneSent);
            }
            return true;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            OnRedisError(operation.Name, ex);
            Enqueue(operation, replay);
            return false;
        }
    }

    private void Enqueue(PendingOperation operation, bool replay)
    {
        if (replay)
        {
            // A newer operation for the same key, queued meanwhile, wins.
            _pending.TryAdd(operation.ReplayKey, operation);
            return;
        }
        if (!_pending.ContainsKey(operation.ReplayKey) && _pending.Count >= _options.MaxPendingReplayOperations)
        {
            if (Interlocked.Exchange(ref _queueFullLogged, 1) == 0)
            {
                Log.ReplayQueueFull(_logger, Name, _options.MaxPendingReplayOperations, operation.ReplayKey);
            }
            return;
        }
        _pending[operation.ReplayKey] = operation;
    }

    /// <summary>
    /// The reconnect event is the main trigger for a replay and a resubscription, but either can find Redis not
    /// ready yet (the breaker still open after an error from a command in flight, a subscription refused during the
    /// handshake). This tick retries both, so nothing waits for the next outage to recover.
    /// </summary>
    private void OnMaintenanceTick()
    {
        if (_redis is not { IsConnected: true }) return;
        if (_options.BackplaneEnabled && !_subscribed) _ = EnsureSubscribedAsync();
        if (!_pending.IsEmpty && DistributedUsable) _ = ReplayAsync();
    }

    private async Task ReplayAsync()
    {
        if (Interlocked.Exchange(ref _replaying, 1) == 1) return;
        try
        {
            Volatile.Write(ref _queueFullLogged, 0);
            // Entries first, then the messages that tell other nodes to re-read them.
            var snapshot = _pending.ToArray()
                .OrderBy(p => p.Value.Message is null ? 0 : 1)
                .ToArray();
            var replayed = 0;
            foreach (var item in snapshot)
            {
                if (!_pending.TryRemove(item)) continue;
                if (await RunOrQueueAsync(item.Value, replay: true)) replayed++;
            }
            if (replayed > 0) Log.Replayed(_logger, Name, replayed);
        }
        finally
        {
            Volatile.Write(ref _replaying, 0);
        }
    }

    private async Task<(bool Found, DistributedEntry<T> Entry)> ReadDistributedAsync<T>(string key, CancellationToken ct)
    {
        using var activity = CacheTelemetry.Start("distributed.get", Name);
        var db = _redis!.Multiplexer!.GetDatabase();
        RedisResult result;
        try
        {
            result = await db.ScriptEvaluateAsync(LuaScripts.Read, [_keys.Entry(key), _keys.ClearMarker], [_keys.TagMarkerPrefix])
                .WaitAsync(_options.DistributedOperationTimeout, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, ex.GetType().Name);
            OnRedisError("get", ex);
            return default;
        }

        if (result.IsNull) return default;
        var parts = (RedisResult[])result!;
        if (!DistributedEnvelope.TryRead<T>((byte[])parts[0]!, _options.JsonSerializerOptions, out var entry, out var error))
        {
            Log.CorruptDistributedValue(_logger, Name, key, error);
            return default;
        }

        var removedAt = ParseMarker(parts[1]);
        if (entry.Tags is { Length: > 0 } tags)
        {
            if (parts.Length == 2 + tags.Length)
            {
                for (var i = 0; i < tags.Length; i++) removedAt = Math.Max(removedAt, ParseMarker(parts[2 + i]));
            }
            else
            {
                // The script could not decode this envelope (a value beyond cjson's limits): read the markers directly.
                try
                {
                    var markers = await db.StringGetAsync([.. tags.Select(_keys.TagMarker)]).WaitAsync(_options.DistributedOperationTimeout, ct);
                    foreach (var marker in markers) removedAt = Math.Max(removedAt, ParseMarker(marker));
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    OnRedisError("get", ex);
                    return default;
                }
            }
        }

        // Removed by tag or cleared after it was written.
        if (entry.CreatedAt <= removedAt)
        {
            activity?.SetTag(CacheTelemetry.HitLevelTag, "none");
            return default;
        }
        activity?.SetTag(CacheTelemetry.HitLevelTag, "distributed");
        return (true, entry);
    }

    private static long ParseMarker(RedisResult result) => result.IsNull ? long.MinValue : ParseMarker((RedisValue)(string?)result);

    private static long ParseMarker(RedisValue value) =>
        value.IsNullOrEmpty ? long.MinValue
        : long.TryParse((string?)value, NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) ? ticks
        : long.MinValue;

    private void OnRedisError(string operation, Exception exception)
    {
        Interlocked.Increment(ref _distributedErrors);
        if (_breaker.TryOpen())
        {
            Interlocked.Increment(ref _circuitBreakerOpenings);
            Log.RedisFailed(_logger, Name, operation, _breaker.BreakDuration, exception);
        }
    }

    private sealed record PendingOperation(string ReplayKey, string Name, Func<IDatabase, Task>? Write, string? Message);
}
