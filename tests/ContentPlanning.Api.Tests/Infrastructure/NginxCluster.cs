using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>
/// N API processes behind Debian's nginx on loopback, configured from <c>deploy/nginx/content-planning.conf.template</c>
/// as scripts/cluster.sh does: the deployment the README describes, not a look-alike.
/// </summary>
public sealed class NginxCluster : IAsyncDisposable
{
    public const string Nginx = "/usr/sbin/nginx";

    private readonly Process _nginx;
    private readonly string _prefix;
    private readonly IReadOnlyDictionary<string, string> _settings;

    private NginxCluster(Process nginx, string prefix, string url, List<ApiProcess> nodes, IReadOnlyDictionary<string, string> settings)
    {
        _nginx = nginx;
        _prefix = prefix;
        Url = url;
        Nodes = nodes;
        _settings = settings;
    }

    public string Url { get; }

    public List<ApiProcess> Nodes { get; }

    /// <summary>What nginx logged: one line per request with the node (upstream=) that answered.</summary>
    public string AccessLog => File.Exists(Path.Combine(_prefix, "access.log")) ? File.ReadAllText(Path.Combine(_prefix, "access.log")) : "";

    public static string RepositoryRoot => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    public static async Task<NginxCluster> StartAsync(int nodes, string streamReadTimeout, IReadOnlyDictionary<string, string> settings)
    {
        Assert.That(File.Exists(Nginx), "scripts/test.sh installs Debian's nginx-light");
        var started = new List<ApiProcess>();
        for (var i = 1; i <= nodes; i++)
        {
            started.Add(await ApiProcess.StartAsync($"lb-node-{i}", settings));
        }

        var prefix = Path.Combine(Path.GetTempPath(), "cp-nginx-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(prefix);
        var port = TestEnvironment.FreePort();
        var servers = string.Join(" ", started.Select(n => $"server 127.0.0.1:{n.Port} max_fails=1 fail_timeout=5s;"));
        var config = (await File.ReadAllTextAsync(Path.Combine(RepositoryRoot, "deploy/nginx/content-planning.conf.template")))
            .Replace("@PREFIX@", prefix, StringComparison.Ordinal)
            .Replace("@LISTEN@", $"127.0.0.1:{port}", StringComparison.Ordinal)
            .Replace("@UPSTREAM_SERVERS@", servers, StringComparison.Ordinal)
            .Replace("@STREAM_READ_TIMEOUT@", streamReadTimeout, StringComparison.Ordinal);
        var configPath = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(configPath, config);

        var output = new StringBuilder();
        var nginx = Process.Start(new ProcessStartInfo(Nginx, ["-p", prefix, "-c", configPath, "-g", "daemon off;"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        nginx.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        nginx.BeginErrorReadLine();
#pragma warning disable CA2000 // Returned to the caller once ready; disposed by the catch below when the start fails.
        var cluster = new NginxCluster(nginx, prefix, $"http://127.0.0.1:{port}", started, settings);
#pragma warning restore CA2000
        try
        {
            using var probe = new HttpClient { BaseAddress = new Uri(cluster.Url) };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                Assert.That(nginx.HasExited, Is.False, () => $"nginx exited: {output}\n{config}");
                try
                {
                    using var ready = await probe.GetAsync("/health/ready");
                    if (ready.IsSuccessStatusCode)
                    {
                        return cluster;
                    }
                }
                catch (HttpRequestException)
                {
                }

                Assert.That(DateTime.UtcNow, Is.LessThan(deadline), () => $"nginx never answered: {output}");
                await Task.Delay(100);
            }
        }
        catch
        {
            // Not ready: the process is not left running behind a failed start.
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a node again on the port of a stopped one (nginx's upstream list stays as it is).</summary>
    public async Task RestartAsync(ApiProcess stopped)
    {
        var index = Nodes.IndexOf(stopped);
        await stopped.DisposeAsync();
        Nodes[index] = await ApiProcess.StartAsync(stopped.NodeId, _settings, stopped.Port);
    }

    /// <summary>A client whose connections come from <paramref name="sourceAddress"/> (any 127.x.y.z is this machine).</summary>
    public HttpClient CreateClient(string? token = null, string sourceAddress = "127.0.0.1")
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        var client = new HttpClient(handler) { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromMinutes(3) };
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_nginx.HasExited)
        {
            // The whole tree: a killed master leaves its worker running, still holding the listening port.
            _nginx.Kill(entireProcessTree: true);
            await _nginx.WaitForExitAsync();
        }

        _nginx.Dispose();
        foreach (var node in Nodes)
        {
            await node.DisposeAsync();
        }

        try
        {
            Directory.Delete(_prefix, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
