using System.Diagnostics;

namespace ContentPlanning.Caching;

/// <summary>The miss path: stampede lock, L2, factory with timeouts, fail-safe, background completion, eager refresh.</summary>
internal sealed partial class TieredCache
{
    private async ValueTask<CacheResult<T>> GetOrSetMissAsync<TState, T>(
        string key,
        TState state,
        Func<FactoryContext<T>, TState, CancellationToken, Task<T>> factory,
        CacheEntryOptions opts,
        IReadOnlyCollection<string>? tags,
        CancellationToken ct)
    {
        using var activity = CacheTelemetry.Start("get_or_set", Name);
        var readCache = !opts.SkipCacheRead;
        var now = _time.GetUtcNow().UtcTicks;
        var stale = default(Stale<T>);

        if (!opts.SkipMemoryCache && PeekMemory(key, now) is { } early && TryCast(early.Value, out T earlyValue))
        {
            if (readCache && IsFresh(early, now)) return MemoryHit(early, earlyValue, activity);
            stale = new Stale<T>(earlyValue, early.CreatedAt, early.FailSafeExpiry, early.Tags, CacheSource.Memory);
        }
        if (!opts.SkipMemoryCache && readCache) Interlocked.Increment(ref _memoryMisses);

        var keyLock = _locks.Rent(key);
        var ownsLock = false;
        var lockHandedOver = false;
        try
        {
            var canServeStale = stale.HasValue && opts.IsFailSafeEnabled;
            ownsLock = await AcquireAsync(keyLock, canServeStale, opts, ct);
            if (!ownsLock)
            {
                // Another call runs this key's factory and did not finish within our timeout.
                Interlocked.Increment(ref _factoryTimeouts);
                if (canServeStale) return StaleResult(stale, activity, failSafe: false);
                throw new FactoryTimeoutException($"Cache '{Name}': the factory for key '{key}' did not complete within {opts.FactoryHardTimeout}.");
            }

            now = _time.GetUtcNow().UtcTicks;
            if (!opts.SkipMemoryCache && PeekMemory(key, now) is { } current && TryCast(current.Value, out T currentValue))
            {
                // Produced by the call we waited for.
                if (readCache && IsFresh(current, now)) return MemoryHit(current, currentValue, activity);
                if (!stale.HasValue || current.CreatedAt > stale.CreatedAt)
                {
                    stale = new Stale<T>(currentValue, current.CreatedAt, current.FailSafeExpiry, current.Tags, CacheSource.Memory);
                }
            }

            if (readCache && !opts.SkipDistributedCache && DistributedUsable)
            {
                var (found, entry) = await ReadDistributedAsync<T>(key, ct);
                now = _time.GetUtcNow().UtcTicks;
                if (found && now < entry.LogicalExpiry)
                {
                    Interlocked.Increment(ref _distributedHits);
                    if (!opts.SkipMemoryCache) SetMemoryFromDistributed(key, entry, opts, now);
                    activity?.SetTag(CacheTelemetry.HitLevelTag, "distributed");
                    return new CacheResult<T>(entry.Value, true, CacheSource.Distributed, false, new DateTimeOffset(entry.CreatedAt, TimeSpan.Zero));
                }
                Interlocked.Increment(ref _distributedMisses);
                if (found && now < entry.FailSafeExpiry && (!stale.HasValue || entry.CreatedAt > stale.CreatedAt))
                {
                    stale = new Stale<T>(entry.Value, entry.CreatedAt, entry.FailSafeExpiry, entry.Tags, CacheSource.Distributed);
                }
            }

            canServeStale = stale.HasValue && opts.IsFailSafeEnabled;
            activity?.SetTag(CacheTelemetry.HitLevelTag, "factory");

            var context = new FactoryContext<T>(key, opts, stale.HasValue, stale.Value, stale.HasValue ? stale.CachedAt : null);
            var started = Stopwatch.GetTimestamp();
            var startedAt = _time.GetUtcNow().UtcTicks;
            Interlocked.Increment(ref _factoryExecutions);
            using var factoryActivity = CacheTelemetry.Start("factory", Name);
            Task<T> task;
            try
            {
                task = factory(context, state, ct);
            }
            catch (Exception ex)
            {
                task = Task.FromException<T>(ex);
            }

            var soft = canServeStale ? opts.FactorySoftTimeout : Timeout.InfiniteTimeSpan;
            var firstTimeout = MinTimeout(soft, opts.FactoryHardTimeout);
            if (!task.IsCompleted && firstTimeout != Timeout.InfiniteTimeSpan)
            {
                await ((Task)task.WaitAsync(firstTimeout, _time, ct)).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                ct.ThrowIfCancellationRequested();
                if (!task.IsCompleted)
                {
                    Interlocked.Increment(ref _factoryTimeouts);
                    var isSoft = firstTimeout == soft && firstTimeout != opts.FactoryHardTimeout;
                    factoryActivity?.SetTag("cache.factory.timeout", isSoft ? "soft" : "hard");
                    if (opts.AllowTimedOutFactoryBackgroundCompletion)
                    {
                        lockHandedOver = true;
                        _ = CompleteInBackgroundAsync(key, task, context, tags, keyLock, started, startedAt);
                    }
                    else
                    {
                        _ = task.ContinueWith(static t => _ = t.Exception, CancellationToken.None,
                            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                    }

                    if (canServeStale)
                    {
                        if (!isSoft) ActivateFailSafe(key, stale, opts);
                        return StaleResult(stale, activity, failSafe: !isSoft);
                    }
                    throw new FactoryTimeoutException(
                        $"Cache '{Name}': the factory for key '{key}' did not complete within {opts.FactoryHardTimeout}.");
                }
            }

            T value;
            try
            {
                value = await task.WaitAsync(ct);
            }
            catch (Exception ex) when (!(ex is OperationCanceledException && ct.IsCancellationRequested))
            {
                Interlocked.Increment(ref _factoryErrors);
                factoryActivity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
                if (!canServeStale) throw;
                ActivateFailSafe(key, stale, opts);
                return StaleResult(stale, activity, failSafe: true);
            }
            finally
            {
                CacheTelemetry.FactoryDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                    new KeyValuePair<string, object?>(CacheTelemetry.CacheNameTag, Name));
            }

            // The value is as old as the factory's start: an invalidation after that may have been missed by its read.
            await StoreUnlessInvalidated(key, value, context.Options, MergeTags(tags, context.Tags), startedAt);
            return new CacheResult<T>(value, true, CacheSource.Factory, false, new DateTimeOffset(startedAt, TimeSpan.Zero));
        }
        finally
        {
            if (!lockHandedOver)
            {
                if (ownsLock) keyLock.Semaphore.Release();
                _locks.Release(keyLock);
            }
        }
    }

    /// <summary>A timed-out factory goes on; when it completes it updates the cache, then frees the key.</summary>
    private async Task CompleteInBackgroundAsync<T>(string key, Task<T> task, FactoryContext<T> context, IReadOnlyCollection<string>? tags,
        KeyLock keyLock, long started, long startedAt)
    {
        try
        {
            var value = await task;
            CacheTelemetry.FactoryDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>(CacheTelemetry.CacheNameTag, Name));
            await StoreUnlessInvalidated(key, value, context.Options, MergeTags(tags, context.Tags), startedAt);
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _factoryErrors);
            Log.BackgroundFactoryFailed(_logger, Name, key, ex);
        }
        finally
        {
            keyLock.Semaphore.Release();
            _locks.Release(keyLock);
        }
    }

    private async ValueTask<bool> AcquireAsync(KeyLock keyLock, bool canServeStale, CacheEntryOptions opts, CancellationToken ct)
    {
        if (keyLock.Semaphore.Wait(0)) return true;
        var timeout = canServeStale ? MinTimeout(opts.FactorySoftTimeout, opts.FactoryHardTimeout) : opts.FactoryHardTimeout;
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            await keyLock.Semaphore.WaitAsync(ct);
            return true;
        }

        // A cancelled wait leaves the semaphore untouched; a timed-out WaitAsync(...).WaitAsync(...) would not.
        using var timeoutSource = new CancellationTokenSource(timeout, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, timeoutSource.Token);
        try
        {
            await keyLock.Semaphore.WaitAsync(linked.Token);
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    private void StartEagerRefresh<TState, T>(string key, TState state, Func<FactoryContext<T>, TState, CancellationToken, Task<T>> factory,
        CacheEntryOptions opts, IReadOnlyCollection<string>? tags, MemoryEntry entry)
    {
        if (Interlocked.CompareExchange(ref entry.EagerRefreshStarted, 1, 0) != 0) return;
        Interlocked.Increment(ref _eagerRefreshes);
        _ = EagerRefreshAsync(key, state, factory, opts, tags, entry);
    }

    private async Task EagerRefreshAsync<TState, T>(string key, TState state, Func<FactoryContext<T>, TState, CancellationToken, Task<T>> factory,
        CacheEntryOptions opts, IReadOnlyCollection<string>? tags, MemoryEntry entry)
    {
        await Task.Yield();
        var keyLock = _locks.Rent(key);
        try
        {
            // A factory already running for this key will refresh it anyway.
            if (!keyLock.Semaphore.Wait(0)) return;
            try
            {
                using var activity = CacheTelemetry.Start("eager_refresh", Name);
                TryCast(entry.Value, out T staleValue);
                var context = new FactoryContext<T>(key, opts, true, staleValue, new DateTimeOffset(entry.CreatedAt, TimeSpan.Zero));
                var started = Stopwatch.GetTimestamp();
                var startedAt = _time.GetUtcNow().UtcTicks;
                Interlocked.Increment(ref _factoryExecutions);
                var value = await factory(context, state, CancellationToken.None);
                CacheTelemetry.FactoryDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds,
                    new KeyValuePair<string, object?>(CacheTelemetry.CacheNameTag, Name));
                await StoreUnlessInvalidated(key, value, context.Options, MergeTags(tags, context.Tags), startedAt);
            }
            finally
            {
                keyLock.Semaphore.Release();
            }
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _factoryErrors);
            Log.BackgroundFactoryFailed(_logger, Name, key, ex);
        }
        finally
        {
            _locks.Release(keyLock);
        }
    }

    /// <summary>Serves the stale value and keeps it for the throttle duration before the factory is tried again.</summary>
    private void ActivateFailSafe<T>(string key, in Stale<T> stale, CacheEntryOptions opts)
    {
        Interlocked.Increment(ref _failSafeActivations);
        if (opts.SkipMemoryCache) return;
        var now = _time.GetUtcNow().UtcTicks;
        var until = now + opts.FailSafeThrottleDuration.Ticks;
        SetMemory(key, NewMemoryEntry(stale.Value, stale.CreatedAt, until, Math.Max(stale.FailSafeExpiry, until), stale.Tags, null, isStale: true),
            opts, now);
    }

    private void SetMemoryFromDistributed<T>(string key, in DistributedEntry<T> entry, CacheEntryOptions opts, long now)
    {
        var logicalExpiry = Math.Min(entry.LogicalExpiry, now + opts.Duration.Ticks);
        SetMemory(key, NewMemoryEntry(entry.Value, entry.CreatedAt, logicalExpiry, entry.FailSafeExpiry, entry.Tags, opts.EagerRefreshThreshold, false),
            opts, now);
    }

    /// <summary>Writes L1 now; L2 and the backplane in the background or awaited, as configured.</summary>
    private Task Store<T>(string key, T value, CacheEntryOptions opts, string[]? tags, long now)
    {
        var memoryExpiry = now + opts.Duration.Ticks + Jitter(opts.JitterMaxDuration);
        var distributedExpiry = now + (opts.DistributedCacheDuration ?? opts.Duration).Ticks;
        var failSafe = opts.IsFailSafeEnabled ? opts.FailSafeMaxDuration.Ticks : 0;

        if (opts.SkipMemoryCache) _memory.Remove(key);
        else SetMemory(key, NewMemoryEntry(value, now, memoryExpiry, memoryExpiry + failSafe, tags, opts.EagerRefreshThreshold, false), opts, now);

        if (_redis is null) return Task.CompletedTask;
        return WriteDistributed(key, value, now, distributedExpiry, distributedExpiry + failSafe, tags, opts);
    }

    /// <summary>
    /// Stores a factory's value as created when the factory started, so that L2 readers compare it with the tag markers
    /// correctly; skips storing it when one of its tags was invalidated on this node since (L1 would keep it otherwise).
    /// </summary>
    private Task StoreUnlessInvalidated<T>(string key, T value, CacheEntryOptions opts, string[]? tags, long startedAt) =>
        TagInvalidatedSince(tags, startedAt) ? Task.CompletedTask : Store(key, value, opts, tags, startedAt);

    private static long Jitter(TimeSpan max) => max > TimeSpan.Zero ? Random.Shared.NextInt64(max.Ticks) : 0;

    private static TimeSpan MinTimeout(TimeSpan a, TimeSpan b)
    {
        if (a < TimeSpan.Zero) return b < TimeSpan.Zero ? Timeout.InfiniteTimeSpan : b;
        if (b < TimeSpan.Zero) return a;
        return a < b ? a : b;
    }

    private static string[]? MergeTags(IReadOnlyCollection<string>? first, IReadOnlyCollection<string>? second)
    {
        if (first is not { Count: > 0 }) return second is { Count: > 0 } ? [.. second.Distinct(StringComparer.Ordinal)] : null;
        if (second is not { Count: > 0 }) return [.. first.Distinct(StringComparer.Ordinal)];
        return [.. first.Concat(second).Distinct(StringComparer.Ordinal)];
    }

    private CacheResult<T> MemoryHit<T>(MemoryEntry entry, T value, Activity? activity)
    {
        Interlocked.Increment(ref _memoryHits);
        activity?.SetTag(CacheTelemetry.HitLevelTag, "memory");
        activity?.SetTag(CacheTelemetry.StaleTag, entry.IsStale);
        return new CacheResult<T>(value, true, CacheSource.Memory, entry.IsStale, new DateTimeOffset(entry.CreatedAt, TimeSpan.Zero));
    }

    private static CacheResult<T> StaleResult<T>(in Stale<T> stale, Activity? activity, bool failSafe)
    {
        activity?.SetTag(CacheTelemetry.HitLevelTag, stale.Source == CacheSource.Memory ? "memory" : "distributed");
        activity?.SetTag(CacheTelemetry.StaleTag, true);
        activity?.SetTag(CacheTelemetry.FailSafeTag, failSafe);
        return new CacheResult<T>(stale.Value, true, stale.Source, true, stale.CachedAt);
    }

    private readonly record struct Stale<T>(T Value, long CreatedAt, long FailSafeExpiry, string[]? Tags, CacheSource Source)
    {
        public bool HasValue => Source != CacheSource.None;

        public DateTimeOffset CachedAt => new(CreatedAt, TimeSpan.Zero);
    }
}
