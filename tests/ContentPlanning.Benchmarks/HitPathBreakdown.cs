using BenchmarkDotNet.Attributes;
using ContentPlanning.Caching;

namespace ContentPlanning.Benchmarks;

/// <summary>Where an L1 hit spends its time: run with --filter '*HitPathBreakdown*' when tuning the hit path.</summary>
[MemoryDiagnoser]
public class HitPathBreakdown
{
    private static readonly Func<FactoryContext<int>, CancellationToken, Task<int>> Factory = static (_, _) => Task.FromResult(42);
    private Node _node = null!;
    private TieredCache _concrete = null!;

    [GlobalSetup]
    public async Task Setup()
    {
        _node = await Node.StartAsync("bench-" + Guid.NewGuid().ToString("N")[..8], redis: null);
        _concrete = (TieredCache)_node.Cache;
        await _node.Cache.SetAsync("k", 42);
    }

    [GlobalCleanup]
    public void Cleanup() => _node.Dispose();

    [Benchmark]
    public long SystemClockRead() => TimeProvider.System.GetUtcNow().UtcTicks;

    [Benchmark]
    public long TickCount() => Environment.TickCount64;

    [Benchmark(Baseline = true)]
    public int ViaInterface() => _node.Cache.GetOrSetAsync("k", Factory).Result.Value;

    [Benchmark]
    public int ViaConcreteType() => _concrete.GetOrSetAsync("k", Factory).Result.Value;
}
