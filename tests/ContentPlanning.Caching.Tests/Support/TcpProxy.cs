using System.Net;
using System.Net.Sockets;

namespace ContentPlanning.Caching.Tests.Support;

/// <summary>
/// Forwards 127.0.0.1:Port to Redis. <see cref="Cut"/> drops every connection and refuses new ones (Redis "down" for
/// whoever goes through it), <see cref="Restore"/> listens again on the same port. The shared Redis is never touched.
/// </summary>
internal sealed class TcpProxy : IDisposable
{
    private readonly IPEndPoint _target;
    private readonly Lock _gate = new();
    private readonly List<Socket> _sockets = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;

    public TcpProxy(string target)
    {
        var parts = target.Split(':');
        _target = new IPEndPoint(IPAddress.Parse(parts[0] == "localhost" ? "127.0.0.1" : parts[0]), int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture));
        Listen(0);
    }

    public int Port { get; private set; }

    public string Endpoint => $"127.0.0.1:{Port}";

    public void Cut()
    {
        lock (_gate)
        {
            _stop?.Cancel();
            _listener?.Stop();
            _listener = null;
            foreach (var socket in _sockets)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                    socket.Close();
                }
                catch (SocketException)
                {
                    // Already closed by the other side.
                }
            }
            _sockets.Clear();
        }
    }

    public void Restore()
    {
        Frozen = false;
        Listen(Port);
    }

    /// <summary>Connections stay open but nothing gets through: a Redis that hangs rather than refuses.</summary>
    public bool Frozen { get; set; }

    private TaskCompletionSource _subscribeGate = CompletedGate();

    /// <summary>Every reply from the target is held this long: a slow Redis (under its operation timeout).</summary>
    public TimeSpan ReplyDelay { get; set; }

    /// <summary>
    /// While held, a client's SUBSCRIBE commands wait in the proxy (with everything that client sends after them): the
    /// client's pub/sub connection stays in its handshake while its command connection works.
    /// </summary>
    public void HoldSubscriptions() => _subscribeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseSubscriptions() => _subscribeGate.TrySetResult();

    private static TaskCompletionSource CompletedGate()
    {
        var gate = new TaskCompletionSource();
        gate.SetResult();
        return gate;
    }

    private void Listen(int port)
    {
        lock (_gate)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _listener = listener;
            _stop = new CancellationTokenSource();
            _ = AcceptAsync(listener, _stop.Token);
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await upstream.ConnectAsync(_target, stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                client.Close();
                upstream.Dispose();
                continue;
            }

            lock (_gate)
            {
                if (stop.IsCancellationRequested)
                {
                    client.Close();
                    upstream.Close();
                    return;
                }
                _sockets.Add(client);
                _sockets.Add(upstream);
            }
            _ = PumpAsync(client, upstream, fromClient: true);
            _ = PumpAsync(upstream, client, fromClient: false);
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool fromClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0) break;
                if (Frozen) continue;
                if (fromClient && buffer.AsSpan(0, read).IndexOf("SUBSCRIBE"u8) >= 0) await _subscribeGate.Task;
                if (!fromClient && ReplyDelay > TimeSpan.Zero) await Task.Delay(ReplyDelay);
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // One side went away: close the other below.
        }
        try
        {
            to.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
    }

    public void Dispose() => Cut();
}
