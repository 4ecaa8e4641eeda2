using System.Globalization;
using StackExchange.Redis;

namespace ContentPlanning.Benchmarks;

/// <summary>
/// Redis commands the cache sends, counted by Redis itself (INFO commandstats after CONFIG RESETSTAT), two nodes on a
/// private Redis: per write on A (the write path: RemoveByTag of the user, with B holding the key in L1 and handling the backplane message), per next read of
/// that key on B, and per cold read of a tagged key on a third node. Connection keep-alives are left out.
/// </summary>
internal static class RedisCommandCount
{
    private const int Keys = 100;
    private static readonly string[] Ignored = ["ping", "echo", "info", "config", "cluster", "client", "subscribe", "unsubscribe", "psubscribe"];

    public static async Task<int> RunAsync()
    {
        using var admin = await ConnectionMultiplexer.ConnectAsync(Node.Redis + ",allowAdmin=true");
        var server = admin.GetServer(admin.GetEndPoints()[0]);
        var name = "bench-cmd-" + Guid.NewGuid().ToString("N")[..8];
        using var a = await Node.StartAsync(name, Node.Redis, o => o.BackgroundDistributedOperations = false);
        using var b = await Node.StartAsync(name, Node.Redis, o => o.BackgroundDistributedOperations = false);
        var keys = Enumerable.Range(0, Keys).Select(i => "k" + i.ToString(CultureInfo.InvariantCulture)).ToArray();
        string[] Tags(int i) => ["user:" + i.ToString(CultureInfo.InvariantCulture)];

        for (var i = 0; i < Keys; i++) await b.ReadAsync(keys[i], tags: Tags(i));
        await Task.Delay(1000);

        var writes = await CountAsync(server, async () =>
        {
            for (var i = 0; i < Keys; i++) await a.Cache.RemoveByTagAsync(Tags(i)[0]);
            await Task.Delay(1000); // B handles the 100 messages
        });
        var nextReads = await CountAsync(server, async () =>
        {
            for (var i = 0; i < Keys; i++) await b.ReadAsync(keys[i], tags: Tags(i));
        });
        using var c = await Node.StartAsync(name, Node.Redis, o => o.BackgroundDistributedOperations = false);
        await Task.Delay(500);
        var coldReads = await CountAsync(server, async () =>
        {
            for (var i = 0; i < Keys; i++) await c.ReadAsync(keys[i], tags: Tags(i));
        });

        Console.WriteLine($"Redis commands per write (RemoveByTag) on A, incl. B's handling of the message: {Per(writes)}");
        Console.WriteLine($"Redis commands per next read of that key on B: {Per(nextReads)}");
        Console.WriteLine($"Redis commands per cold read of a tagged key on a fresh node C: {Per(coldReads)}");
        return 0;
    }

    private static string Per(Dictionary<string, long> counts) =>
        $"{counts.Values.Sum() / (double)Keys:0.##} ({string.Join(", ", counts.OrderBy(p => p.Key).Select(p => $"{p.Key} {p.Value / (double)Keys:0.##}"))})";

    private static async Task<Dictionary<string, long>> CountAsync(IServer server, Func<Task> action)
    {
        await server.ConfigResetStatisticsAsync();
        await action();
        var counts = new Dictionary<string, long>();
        foreach (var group in await server.InfoAsync("commandstats"))
        {
            foreach (var pair in group)
            {
                // cmdstat_get: calls=3,usec=...
                var command = pair.Key.Replace("cmdstat_", "", StringComparison.Ordinal);
                if (Ignored.Any(i => command.StartsWith(i, StringComparison.Ordinal))) continue;
                var calls = long.Parse(pair.Value.Split(',')[0].Split('=')[1], CultureInfo.InvariantCulture);
                counts[command] = calls;
            }
        }
        return counts;
    }
}
