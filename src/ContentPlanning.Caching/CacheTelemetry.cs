using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace ContentPlanning.Caching;

/// <summary>Names to subscribe to: <c>AddSource(CacheTelemetry.ActivitySourceName)</c>, <c>AddMeter(CacheTelemetry.MeterName)</c>.</summary>
public static class CacheTelemetry
{
    public const string ActivitySourceName = "ContentPlanning.Caching";
    public const string MeterName = "ContentPlanning.Caching";

    internal const string CacheNameTag = "cache.name";
    internal const string OperationTag = "cache.operation";
    internal const string HitLevelTag = "cache.hit_level";
    internal const string StaleTag = "cache.stale";
    internal const string FailSafeTag = "cache.fail_safe";

    internal static readonly ActivitySource Source = new(ActivitySourceName);

    private static readonly Meter Meter = new(MeterName);

    // Live caches; the observable instruments read their interlocked counters, so a hit costs no metric call at all.
    private static readonly ConcurrentDictionary<TieredCache, byte> Caches = new();

    internal static readonly Histogram<double> FactoryDuration = Meter.CreateHistogram<double>(
        "cache.factory.duration", unit: "s", description: "Duration of factory executions.");

    static CacheTelemetry()
    {
        Counter("cache.memory.hits", "L1 hits.", s => s.MemoryHits);
        Counter("cache.memory.misses", "L1 misses.", s => s.MemoryMisses);
        Counter("cache.distributed.hits", "L2 hits.", s => s.DistributedHits);
        Counter("cache.distributed.misses", "L2 misses.", s => s.DistributedMisses);
        Counter("cache.distributed.errors", "L2 and backplane errors.", s => s.DistributedErrors);
        Counter("cache.factory.executions", "Factory executions.", s => s.FactoryExecutions);
        Counter("cache.factory.errors", "Factory executions that threw.", s => s.FactoryErrors);
        Counter("cache.factory.timeouts", "Factory soft and hard timeouts.", s => s.FactoryTimeouts);
        Counter("cache.fail_safe.activations", "Stale values served because the factory failed.", s => s.FailSafeActivations);
        Counter("cache.eager_refreshes", "Background refreshes started by a hit.", s => s.EagerRefreshes);
        Counter("cache.backplane.sent", "Backplane messages published.", s => s.BackplaneMessagesSent);
        Counter("cache.backplane.received", "Backplane messages received from other nodes.", s => s.BackplaneMessagesReceived);
        Counter("cache.circuit_breaker.openings", "Times the Redis circuit breaker opened.", s => s.CircuitBreakerOpenings);
        Meter.CreateObservableGauge("cache.memory.entries", () => Observe(s => s.MemoryEntries), description: "L1 entries.");
    }

    internal static void Register(TieredCache cache) => Caches.TryAdd(cache, 0);

    internal static void Unregister(TieredCache cache) => Caches.TryRemove(cache, out _);

    internal static Activity? Start(string operation, string cacheName)
    {
        var activity = Source.StartActivity(operation, ActivityKind.Internal);
        if (activity is not null)
        {
            activity.SetTag(CacheNameTag, cacheName);
            activity.SetTag(OperationTag, operation);
        }
        return activity;
    }

    private static void Counter(string name, string description, Func<CacheStatistics, long> read) =>
        Meter.CreateObservableCounter(name, () => Observe(read), description: description);

    private static IEnumerable<Measurement<long>> Observe(Func<CacheStatistics, long> read)
    {
        foreach (var cache in Caches.Keys)
        {
            var stats = cache.GetStatistics();
            yield return new Measurement<long>(read(stats), new KeyValuePair<string, object?>(CacheNameTag, stats.CacheName));
        }
    }
}
