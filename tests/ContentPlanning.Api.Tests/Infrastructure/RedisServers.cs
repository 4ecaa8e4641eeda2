using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>
/// Redis servers a test starts for itself on loopback (a standalone one it may kill, a Sentinel set, a Cluster): each a
/// child process of the test, in the foreground, killed by its PID when the test disposes of it.
/// </summary>
public static class RedisServers
{
    /// <summary>Starts <c>redis-server</c>, without persistence, on 127.0.0.1:<paramref name="port"/> and waits until it accepts connections.</summary>
    public static Process Start(int port, IEnumerable<string>? arguments = null) =>
        Run("redis-server", port, [.. arguments ?? [], "--save", "", "--appendonly", "no"]);

    /// <summary>Starts <c>redis-sentinel</c> (Debian's redis-sentinel package) with its configuration file on 127.0.0.1:<paramref name="port"/>.</summary>
    public static Process StartSentinel(int port, string configFile) => Run("redis-sentinel", port, [configFile]);

    private static Process Run(string program, int port, IEnumerable<string> arguments)
    {
        var redis = Process.Start(new ProcessStartInfo(program, [.. arguments, "--port", Text(port), "--bind", "127.0.0.1"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        redis.OutputDataReceived += (_, _) => { };
        redis.ErrorDataReceived += (_, _) => { };
        redis.BeginOutputReadLine();
        redis.BeginErrorReadLine();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var socket = new TcpClient();
                socket.Connect(IPAddress.Loopback, port);
                return redis;
            }
            catch (SocketException) when (deadline.Elapsed < TimeSpan.FromSeconds(10) && !redis.HasExited)
            {
                Thread.Sleep(50);
            }
        }
    }

    /// <summary>Kills a server this test started (by its PID) and waits for it to be gone.</summary>
    public static void Stop(Process? redis)
    {
        if (redis is null) return;
        try
        {
            if (!redis.HasExited)
            {
                redis.Kill(entireProcessTree: true);
                redis.WaitForExit();
            }
        }
        finally
        {
            redis.Dispose();
        }
    }

    /// <summary>Runs <c>redis-cli -p PORT ARGS...</c> (bounded) and returns what it printed.</summary>
    public static async Task<string> CliAsync(int port, params string[] arguments)
    {
        var (exitCode, output) = await RunCliAsync(port, arguments);
        Assert.That(exitCode, Is.Zero, $"redis-cli -p {port} {string.Join(' ', arguments)}: {output}");
        return output;
    }

    /// <summary>
    /// The same for a poll: null when redis-cli failed. A server changing role (a primary demoted by the sentinels) closes
    /// its clients' connections, so one failed look is "not yet", not a failure.
    /// </summary>
    public static async Task<string?> TryCliAsync(int port, params string[] arguments)
    {
        var (exitCode, output) = await RunCliAsync(port, arguments);
        return exitCode == 0 ? output : null;
    }

    private static async Task<(int ExitCode, string Output)> RunCliAsync(int port, string[] arguments)
    {
        using var cli = Process.Start(new ProcessStartInfo("redis-cli", ["-h", "127.0.0.1", "-p", Text(port), .. arguments])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = cli.StandardOutput.ReadToEndAsync();
        var errors = cli.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await cli.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            cli.Kill(entireProcessTree: true);
            Assert.Fail($"redis-cli -p {port} {string.Join(' ', arguments)} did not finish");
        }

        return (cli.ExitCode, cli.ExitCode == 0 ? (await output).Trim() : await output + await errors);
    }

    /// <summary>Asks until <paramref name="done"/> holds (bounded by <paramref name="limit"/>); fails with <paramref name="what"/> otherwise.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> done, TimeSpan limit, string what)
    {
        var started = Stopwatch.StartNew();
        while (!await done())
        {
            Assert.That(started.Elapsed, Is.LessThan(limit), what);
            await Task.Delay(50);
        }
    }

    /// <summary>A fresh directory for a server's files under the system's temporary folder.</summary>
    public static string Directory(string name)
    {
        var path = Path.Combine(Path.GetTempPath(), $"cp-{name}-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(path);
        return path;
    }

    public static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// A primary, one replica and three sentinels monitoring them as service <see cref="Service"/>, all on loopback: the
/// Sentinel deployment README "Redis Sentinel and Redis Cluster" describes.
/// </summary>
public sealed class RedisSentinelSet : IAsyncDisposable
{
    public const string Service = "cp-cache";

    private readonly List<Process> _processes = [];
    private readonly string _directory = RedisServers.Directory("sentinel");

    private RedisSentinelSet()
    {
    }

    /// <summary>Ports of the two data nodes: the first started as the primary.</summary>
    public IReadOnlyList<int> DataPorts { get; private set; } = [];

    public IReadOnlyList<int> SentinelPorts { get; private set; } = [];

    /// <summary>What the nodes get as <c>ConnectionStrings__Redis</c>: the sentinels and the service name.</summary>
    public string ConnectionString => string.Join(',', SentinelPorts.Select(p => $"127.0.0.1:{p}")) + $",serviceName={Service}";

    /// <summary>Starts the set and returns once every sentinel knows the primary, its replica and the other sentinels.</summary>
    public static async Task<RedisSentinelSet> StartAsync()
    {
        var set = new RedisSentinelSet();
        try
        {
            var primary = TestEnvironment.FreePort();
            var replica = TestEnvironment.FreePort();
            set.DataPorts = [primary, replica];
            set._processes.Add(RedisServers.Start(primary));
            set._processes.Add(RedisServers.Start(replica, ["--replicaof", "127.0.0.1", RedisServers.Text(primary)]));
            await RedisServers.WaitUntilAsync(async () => (await RedisServers.TryCliAsync(replica, "info", "replication"))?.Contains("master_link_status:up", StringComparison.Ordinal) == true,
                TimeSpan.FromSeconds(20), "the replica never synchronised with the primary");

            set.SentinelPorts = [TestEnvironment.FreePort(), TestEnvironment.FreePort(), TestEnvironment.FreePort()];
            foreach (var port in set.SentinelPorts)
            {
                // Sentinel rewrites its configuration file: one per sentinel, in the set's own directory.
                var config = Path.Combine(set._directory, $"sentinel-{port}.conf");
                await File.WriteAllTextAsync(config, $"""
                    sentinel monitor {Service} 127.0.0.1 {primary} 2
                    sentinel down-after-milliseconds {Service} 2000
                    sentinel failover-timeout {Service} 10000
                    sentinel parallel-syncs {Service} 1
                    """);
                set._processes.Add(RedisServers.StartSentinel(port, config));
            }

            // SENTINEL FAILOVER needs a replica the sentinel knows and deems fit; the others learn the new primary from it.
            foreach (var port in set.SentinelPorts)
            {
                await RedisServers.WaitUntilAsync(async () =>
                {
                    var replicas = await RedisServers.CliAsync(port, "sentinel", "replicas", Service);
                    var sentinels = await RedisServers.CliAsync(port, "sentinel", "sentinels", Service);
                    return replicas.Contains(RedisServers.Text(replica), StringComparison.Ordinal)
                           && SentinelPortsIn(sentinels, set.SentinelPorts) == 2;
                }, TimeSpan.FromSeconds(30), $"sentinel {port} never saw the replica and its two peers");
            }

            return set;
        }
        catch
        {
            await set.DisposeAsync();
            throw;
        }
    }

    /// <summary>The port of the primary as the first sentinel reports it.</summary>
    public async Task<int> PrimaryPortAsync()
    {
        var reply = await RedisServers.CliAsync(SentinelPorts[0], "sentinel", "get-master-addr-by-name", Service);
        return int.Parse(reply.Split('\n')[^1].Trim(), CultureInfo.InvariantCulture);
    }

    /// <summary>Forces a failover (SENTINEL FAILOVER: no agreement asked, the primary is alive).</summary>
    public Task FailoverAsync() => RedisServers.CliAsync(SentinelPorts[0], "sentinel", "failover", Service);

    /// <summary>Whether every sentinel names <paramref name="port"/> as the primary and that server says it is one.</summary>
    public async Task<bool> SwitchedToAsync(int port)
    {
        foreach (var sentinel in SentinelPorts)
        {
            var reply = await RedisServers.TryCliAsync(sentinel, "sentinel", "get-master-addr-by-name", Service);
            if (reply?.EndsWith(RedisServers.Text(port), StringComparison.Ordinal) != true) return false;
        }

        return (await RedisServers.TryCliAsync(port, "role"))?.StartsWith("master", StringComparison.Ordinal) == true;
    }

    /// <summary>Whether the server on <paramref name="port"/> is a replica of <paramref name="primary"/> (its link may still be down).</summary>
    public static async Task<bool> ReplicatesFromAsync(int port, int primary)
    {
        var info = await RedisServers.TryCliAsync(port, "info", "replication");
        return info is not null && info.Contains("role:slave", StringComparison.Ordinal) && info.Contains($"master_port:{primary}", StringComparison.Ordinal);
    }

    private static int SentinelPortsIn(string reply, IEnumerable<int> ports) =>
        ports.Count(p => reply.Split('\n').Any(line => line.Trim() == RedisServers.Text(p)));

    public ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            RedisServers.Stop(process);
        }

        System.IO.Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// A Redis Cluster of three primaries and no replicas on loopback (<c>redis-cli --cluster create</c>). Each node's bus
/// port is chosen free and passed with <c>--cluster-port</c>: the default, port + 10000, does not exist above 55535.
/// </summary>
public sealed class RedisCluster : IAsyncDisposable
{
    private readonly List<Process> _processes = [];
    private readonly string _directory = RedisServers.Directory("cluster");

    private RedisCluster()
    {
    }

    public IReadOnlyList<int> Ports { get; private set; } = [];

    /// <summary>What the nodes get as <c>ConnectionStrings__Redis</c>: the primaries (the client discovers the slots).</summary>
    public string ConnectionString => string.Join(',', Ports.Select(p => $"127.0.0.1:{p}"));

    public static async Task<RedisCluster> StartAsync()
    {
        var cluster = new RedisCluster();
        try
        {
            cluster.Ports = [TestEnvironment.FreePort(), TestEnvironment.FreePort(), TestEnvironment.FreePort()];
            foreach (var port in cluster.Ports)
            {
                cluster._processes.Add(RedisServers.Start(port,
                [
                    "--cluster-enabled", "yes",
                    "--cluster-port", RedisServers.Text(TestEnvironment.FreePort()),
                    "--cluster-config-file", Path.Combine(cluster._directory, $"nodes-{port}.conf"),
                    "--dir", cluster._directory,
                ]));
            }

            await RedisServers.CliAsync(cluster.Ports[0],
                ["--cluster", "create", .. cluster.Ports.Select(p => $"127.0.0.1:{p}"), "--cluster-replicas", "0", "--cluster-yes"]);
            foreach (var port in cluster.Ports)
            {
                await RedisServers.WaitUntilAsync(async () => (await RedisServers.TryCliAsync(port, "cluster", "info"))?.Contains("cluster_state:ok", StringComparison.Ordinal) == true,
                    TimeSpan.FromSeconds(30), $"cluster node {port} never reported cluster_state:ok");
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>How many keys each primary holds.</summary>
    public async Task<IReadOnlyList<long>> KeysPerNodeAsync()
    {
        var counts = new List<long>();
        foreach (var port in Ports)
        {
            counts.Add(long.Parse(await RedisServers.CliAsync(port, "dbsize"), CultureInfo.InvariantCulture));
        }

        return counts;
    }

    /// <summary>The keys of one primary matching <paramref name="pattern"/>.</summary>
    public static async Task<IReadOnlyList<string>> KeysAsync(int port, string pattern) =>
        (await RedisServers.CliAsync(port, "--scan", "--pattern", pattern)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            RedisServers.Stop(process);
        }

        System.IO.Directory.Delete(_directory, recursive: true);
        return ValueTask.CompletedTask;
    }
}
