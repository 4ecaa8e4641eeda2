using System.Net;
using System.Net.Sockets;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>
/// Forwards a loopback port to a server (PostgreSQL here). <see cref="Cut"/> resets every connection and stops
/// listening, so whoever goes through it sees the server as down; <see cref="Restore"/> listens again on the same port.
/// The shared server is never touched. (Caching.Tests has its own copy of this idea, not yet on this branch.)
/// </summary>
internal sealed class TcpProxy : IDisposable
{
    private readonly IPEndPoint _target;
    private readonly Lock _gate = new();
    private readonly List<Socket> _sockets = [];
    private TcpListener? _listener;

    public TcpProxy(string host, int port)
    {
        _target = new IPEndPoint(host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(host), port);
        Listen(0);
    }

    public int Port { get; private set; }

    public void Cut()
    {
        lock (_gate)
        {
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

    public void Restore() => Listen(Port);

    private void Listen(int port)
    {
        lock (_gate)
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            Port = ((IPEndPoint)listener.LocalEndpoint).Port;
            _listener = listener;
            _ = AcceptAsync(listener);
        }
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await listener.AcceptSocketAsync();
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await upstream.ConnectAsync(_target);
            }
            catch (SocketException)
            {
                client.Close();
                upstream.Dispose();
                continue;
            }

            lock (_gate)
            {
                if (!ReferenceEquals(listener, _listener))
                {
                    client.Close();
                    upstream.Close();
                    return;
                }

                _sockets.Add(client);
                _sockets.Add(upstream);
            }

            _ = PumpAsync(client, upstream);
            _ = PumpAsync(upstream, client);
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }

            to.Shutdown(SocketShutdown.Both);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // One side went away; Cut or the peer closes the other.
        }
    }

    public void Dispose() => Cut();
}
