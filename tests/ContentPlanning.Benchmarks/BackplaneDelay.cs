using System.Diagnostics;
using System.Globalization;

namespace ContentPlanning.Benchmarks;

/// <summary>
/// Two nodes on one Redis: after a forced refresh on A (a write's new value) or a RemoveAsync on A, how long until B's
/// next read returns the new state. B polls with ordinary cached reads (an L1 hit until the backplane message reaches
/// it, then an L2 read).
/// </summary>
internal static class BackplaneDelay
{
    public static async Task<int> RunAsync(int samples)
    {
        var name = "bench-bp-" + Guid.NewGuid().ToString("N")[..8];
        // Awaited L2 writes: B's priming write of a missing key must land before A's write, or (last write wins in
        // FusionCache's L2) it could overwrite A's value and B would wait for a value that is no longer there.
        using var a = await Node.StartAsync(name, Node.Redis, o => o.BackgroundDistributedOperations = false);
        using var b = await Node.StartAsync(name, Node.Redis, o => o.BackgroundDistributedOperations = false);
        var setDelays = new List<double>(samples);
        var removeDelays = new List<double>(samples);
        var timeout = TimeSpan.FromSeconds(5);

        for (var i = 0; i < samples + 20; i++)
        {
            var key = "k" + (i % 10).ToString(CultureInfo.InvariantCulture);
            // B holds the current value in L1 before each change.
            await b.ReadAsync(key);

            var started = Stopwatch.GetTimestamp();
            await a.ReadAsync(key, i, force: true);
            while ((await b.ReadAsync(key)).Value!.N != i)
            {
                if (Stopwatch.GetElapsedTime(started) > timeout) throw new TimeoutException($"B never saw set #{i}");
                await Pause();
            }
            var set = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            started = Stopwatch.GetTimestamp();
            await a.Cache.RemoveAsync(key);
            while ((await b.ReadAsync(key)).Source != ContentPlanning.Caching.CacheSource.Factory)
            {
                if (Stopwatch.GetElapsedTime(started) > timeout) throw new TimeoutException($"B never saw remove #{i}");
                await Pause();
            }
            var remove = Stopwatch.GetElapsedTime(started).TotalMilliseconds;

            if (i < 20) continue; // warm-up
            setDelays.Add(set);
            removeDelays.Add(remove);
        }

        Console.WriteLine();
        Console.WriteLine($"Backplane propagation delay, 2 nodes, Redis {Node.Redis}, {samples} samples each (ms)");
        Console.WriteLine("| operation on A | median | p90 | p99 | max |");
        Console.WriteLine("|---|---:|---:|---:|---:|");
        Print("forced refresh -> B reads new value", setDelays);
        Print("RemoveAsync -> B misses both tiers", removeDelays);
        return 0;
    }

    /// <summary>
    /// An L1 hit completes synchronously, so a bare polling loop would hold a core; on a 2-core machine that starves
    /// the Redis client's reader and inflates the very delay being measured.
    /// </summary>
    private static async Task Pause()
    {
        Thread.Yield();
        await Task.Yield();
    }

    private static void Print(string label, List<double> values)
    {
        values.Sort();
        double At(double q) => values[Math.Min(values.Count - 1, (int)Math.Ceiling(q * values.Count) - 1)];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {label} | {At(0.5):F3} | {At(0.9):F3} | {At(0.99):F3} | {values[^1]:F3} |"));
    }
}
