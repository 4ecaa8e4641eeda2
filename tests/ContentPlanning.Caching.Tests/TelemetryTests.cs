using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using ContentPlanning.Caching.Tests.Support;

namespace ContentPlanning.Caching.Tests;

public sealed class TelemetryTests
{
    [Test]
    public async Task AMissIsTracedWithFactoryAndL2SpansAndAHitIsNot()
    {
        var name = TestRedis.NewCacheName();
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == CacheTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (Equals(a.GetTagItem("cache.name"), name)) spans.Enqueue(a);
            },
        };
        ActivitySource.AddActivityListener(listener);
        using var node = await CacheNode.StartAsync(name, TestRedis.Endpoint, o => o.BackgroundDistributedOperations = false);

        await node.Cache.GetOrSetAsync<int>("k", static (_, _) => Task.FromResult(1));
        var afterMiss = spans.Select(s => s.OperationName).ToArray();
        await node.Cache.GetOrSetAsync<int>("k", static (_, _) => Task.FromResult(1));

        Assert.That(afterMiss, Is.SupersetOf(new[] { "get_or_set", "factory", "distributed.get", "distributed.set", "backplane.publish" }));
        Assert.That(spans, Has.Count.EqualTo(afterMiss.Length), "an L1 hit starts no span");
        var getOrSet = spans.Single(s => s.OperationName == "get_or_set");
        Assert.That(getOrSet.GetTagItem("cache.hit_level"), Is.EqualTo("factory"));
        Assert.That(getOrSet.GetTagItem("cache.operation"), Is.EqualTo("get_or_set"));
    }

    [Test]
    public async Task TheMeterReportsTheSameNumbersAsGetStatistics()
    {
        var name = TestRedis.NewCacheName();
        var measurements = new ConcurrentDictionary<string, long>();
        var factoryDurations = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == CacheTelemetry.MeterName) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "cache.name" && Equals(tag.Value, name)) measurements[instrument.Name] = value;
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (instrument.Name == "cache.factory.duration" && tag.Key == "cache.name" && Equals(tag.Value, name)) Interlocked.Increment(ref factoryDurations);
            }
        });
        listener.Start();
        using var node = await CacheNode.StartAsync(name, redis: null);

        await node.Cache.GetOrSetAsync<int>("k", static (_, _) => Task.FromResult(1));
        for (var i = 0; i < 3; i++) await node.Cache.GetOrSetAsync<int>("k", static (_, _) => Task.FromResult(1));
        Assert.ThrowsAsync<InvalidOperationException>(async () =>
            await node.Cache.GetOrSetAsync<int>("bad", static (_, _) => throw new InvalidOperationException("boom")));
        listener.RecordObservableInstruments();

        var stats = node.Stats;
        Assert.That(measurements["cache.memory.hits"], Is.EqualTo(stats.MemoryHits).And.EqualTo(3));
        Assert.That(measurements["cache.memory.misses"], Is.EqualTo(stats.MemoryMisses).And.EqualTo(2));
        Assert.That(measurements["cache.factory.executions"], Is.EqualTo(2));
        Assert.That(measurements["cache.factory.errors"], Is.EqualTo(1));
        Assert.That(measurements["cache.memory.entries"], Is.EqualTo(1));
        Assert.That(factoryDurations, Is.EqualTo(2));
    }
}
