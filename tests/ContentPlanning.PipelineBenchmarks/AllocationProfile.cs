using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace ContentPlanning.PipelineBenchmarks;

/// <summary>
/// <c>--allocations</c>: which types a cached read allocates, by the runtime's allocation sampling (one GCAllocationTick
/// event per ~100 KB allocated, naming the type that crossed the mark): many requests through each case, the sampled
/// bytes per type divided by the requests, beside the exact total per request (GC.GetTotalAllocatedBytes).
/// </summary>
internal static class AllocationProfile
{
    public static async Task<int> RunAsync(int requests)
    {
        var benchmarks = new PipelineBenchmarks();
        benchmarks.Setup();
        try
        {
            foreach (var (name, send) in new (string, Func<Task<byte[]>>)[]
            {
                ("bare app, comprehensive bytes", benchmarks.BareComprehensive),
                ("comprehensive data, L1 hit", benchmarks.ComprehensiveL1),
                ("comprehensive data, L1 hit, bearer token", benchmarks.ComprehensiveL1Bearer),
                ("active strategy, L1 hit", benchmarks.ActiveL1),
            })
            {
                for (var i = 0; i < 2000; i++)
                {
                    await send();
                }

                using var listener = new AllocationListener();
                var before = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < requests; i++)
                {
                    await send();
                }

                var perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / (double)requests;
                Console.WriteLine($"\n== {name}: {perRequest:F0} bytes allocated per request (all threads); sampled types, bytes per request:");
                foreach (var (type, bytes) in listener.ByType.OrderByDescending(kv => kv.Value).Take(30))
                {
                    Console.WriteLine($"  {bytes / (double)requests,8:F0}  {type}");
                }
            }
        }
        finally
        {
            benchmarks.Cleanup();
        }

        return 0;
    }

    private sealed class AllocationListener : EventListener
    {
        public ConcurrentDictionary<string, long> ByType { get; } = new();

        protected override void OnEventSourceCreated(EventSource source)
        {
            if (source.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs e)
        {
            if (e.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) == true && e.Payload is { } payload)
            {
                var type = payload[e.PayloadNames!.IndexOf("TypeName")] as string ?? "?";
                var amount = Convert.ToInt64(payload[e.PayloadNames!.IndexOf("AllocationAmount64")], System.Globalization.CultureInfo.InvariantCulture);
                ByType.AddOrUpdate(type, amount, (_, total) => total + amount);
            }
        }
    }
}
