using ContentPlanning.Api.Infrastructure.Hosting;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>A slice that reacts to PostgreSQL notifications on one channel, through the node's <see cref="DatabaseListener"/>.</summary>
public interface IDatabaseNotificationHandler
{
    /// <summary>The channel to LISTEN on (a plain lower-case identifier).</summary>
    string Channel { get; }

    /// <summary>The pause this handler wants between reconnect attempts; the listener takes the shortest asked for.</summary>
    TimeSpan? ReconnectDelay => null;

    /// <summary>
    /// The connection LISTENs and has proven it hears notifications. <paramref name="resumed"/>: an earlier connection was
    /// lost (or went deaf), so whatever was notified meanwhile is gone. Notifications wait until this returns.
    /// </summary>
    Task OnListeningAsync(bool resumed, int backendProcessId, CancellationToken cancellationToken);

    /// <summary>From now on notifications may be missed (connection lost, or its echo did not come back).</summary>
    void OnListeningLost();

    /// <summary>One notification on <see cref="Channel"/>, in commit order. Runs on the listening loop: keep it short.</summary>
    void OnNotification(string payload);
}

/// <summary>
/// The node's one LISTEN connection (unpooled, on <c>ConnectionStrings:PostgresDirect</c>, <c>application_name</c>
/// <c>cp-listener:&lt;node&gt;</c>), shared by every <see cref="IDatabaseNotificationHandler"/>: it reconnects after a drop,
/// and it proves it hears: it NOTIFYs itself through the request pool (the path writes take, PgBouncer included) every
/// <c>Database__ListenerCheckInterval</c> and treats a missing echo like a lost connection. A LISTEN that a transaction
/// pooler swallowed, or a half-open socket, is therefore never reported as listening.
/// </summary>
public sealed partial class DatabaseListener(
    DatabaseConnections connections,
    NpgsqlDataSource requestPool,
    IEnumerable<IDatabaseNotificationHandler> handlers,
    NodeIdentity node,
    IOptions<DatabaseOptions> options,
    ILogger<DatabaseListener> logger) : BackgroundService
{
    /// <summary>The channel of the listener's own echo.</summary>
    public const string CheckChannel = "cp_listener_check";

    private readonly IDatabaseNotificationHandler[] _handlers = handlers.ToArray();
    private readonly string _instance = Guid.NewGuid().ToString("N");
    private long _echoed = -1;
    private long _sent;
    private long _drops;

    public enum ListenerState { Starting, Listening, Reconnecting }

    public ListenerState State { get; private set; } = ListenerState.Starting;

    /// <summary>The listening backend's process id while connected (tests terminate it).</summary>
    public int? BackendProcessId { get; private set; }

    /// <summary>Connections lost or given up as deaf so far.</summary>
    public long Drops => Interlocked.Read(ref _drops);

    /// <summary>Why the last connection was lost or given up as deaf (null until it first happens).</summary>
    public string? LastDrop { get; private set; }

    /// <summary>Echo round trips completed; each proved the connection still hears what the request path notifies.</summary>
    public long ChecksPassed { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var connectionString = connections.ListenerConnectionString(node.Id);
        var interval = options.Value.ListenerCheckInterval;
        var reconnectDelay = _handlers.Select(h => h.ReconnectDelay).Where(d => d is not null).Select(d => d!.Value)
            .DefaultIfEmpty(TimeSpan.FromSeconds(1)).Min();
        var channels = _handlers.Select(h => h.Channel).Append(CheckChannel).Distinct(StringComparer.Ordinal).ToArray();
        var everListened = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                connection.Notification += (_, e) => Dispatch(e.Channel, e.Payload);
                // Bounded like the echo: a pooler with no server connection to spare queues the LISTEN for minutes.
                using (var connecting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
                {
                    connecting.CancelAfter(SendBound(interval));
                    try
                    {
                        await connection.OpenAsync(connecting.Token);
                        await using var listen = new NpgsqlCommand(string.Concat(channels.Select(c => $"LISTEN \"{c}\";")), connection);
                        await listen.ExecuteNonQueryAsync(connecting.Token);
                    }
                    catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                    {
                        throw new DeafException($"could not connect and LISTEN within {SendBound(interval)}");
                    }
                }

                BackendProcessId = connection.ProcessID;
                await EchoAsync(connection, interval, stoppingToken);
                foreach (var handler in _handlers)
                {
                    await handler.OnListeningAsync(everListened, connection.ProcessID, stoppingToken);
                }

                if (everListened)
                {
                    LogResumed(logger);
                }

                everListened = true;
                State = ListenerState.Listening;
                while (true)
                {
                    // Deliver whatever arrives until the next check is due, then check.
                    var next = DateTime.UtcNow + interval;
                    for (var left = interval; left > TimeSpan.Zero; left = next - DateTime.UtcNow)
                    {
                        await WaitAsync(connection, left, stoppingToken);
                    }

                    await EchoAsync(connection, interval, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException or DeafException)
            {
                // Also before the first connect: entries cached meanwhile were never covered by a listener.
                everListened = true;
                Interlocked.Increment(ref _drops);
                BackendProcessId = null;
                State = ListenerState.Reconnecting;
                foreach (var handler in _handlers)
                {
                    handler.OnListeningLost();
                }

                LastDrop = $"{ex.GetType().Name}: {ex.Message}";
                LogDropped(logger, ex.GetType().Name, ex.Message);
                await Task.Delay(reconnectDelay, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    /// <summary>
    /// Sends one echo through the request pool and waits for it on the listening connection, delivering whatever else
    /// arrives meanwhile. Throws <see cref="DeafException"/> when it did not
    /// come back within the interval.
    /// </summary>
    private async Task EchoAsync(NpgsqlConnection connection, TimeSpan interval, CancellationToken stoppingToken)
    {
        var sequence = ++_sent;
        // A request path that cannot carry the echo in time cannot vouch for the listener either.
        using (var sending = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            sending.CancelAfter(SendBound(interval));
            try
            {
                await using var pooled = await requestPool.OpenConnectionAsync(sending.Token);
                await pooled.ExecuteAsync(new CommandDefinition("SELECT pg_notify(@Channel, @Payload)",
                    new { Channel = CheckChannel, Payload = $"{_instance}:{sequence}" }, cancellationToken: sending.Token));
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException
                                       || (ex is OperationCanceledException && !stoppingToken.IsCancellationRequested))
            {
                throw new DeafException($"the echo could not be sent through the request pool ({ex.Message})");
            }
        }

        var deadline = DateTime.UtcNow + interval;
        while (Interlocked.Read(ref _echoed) < sequence)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new DeafException($"no echo within {interval}: the connection does not receive notifications");
            }

            await WaitAsync(connection, left, stoppingToken);
        }

        ChecksPassed++;
    }

    /// <summary>
    /// Delivers notifications for at most <paramref name="timeout"/>. Npgsql takes whole milliseconds and reads 0 as "no
    /// time-out": a remainder under a millisecond must not become a wait for ever.
    /// </summary>
    private static Task<bool> WaitAsync(NpgsqlConnection connection, TimeSpan timeout, CancellationToken cancellationToken) =>
        connection.WaitAsync((int)Math.Max(1, Math.Ceiling(timeout.TotalMilliseconds)), cancellationToken);

    private static TimeSpan SendBound(TimeSpan interval) => interval < TimeSpan.FromSeconds(5) ? TimeSpan.FromSeconds(5) : interval;

    private void Dispatch(string channel, string payload)
    {
        if (channel == CheckChannel)
        {
            var separator = payload.IndexOf(':', StringComparison.Ordinal);
            if (separator > 0 && payload.AsSpan(0, separator).SequenceEqual(_instance) && long.TryParse(payload.AsSpan(separator + 1), out var sequence))
            {
                Interlocked.Exchange(ref _echoed, sequence);
            }

            return;
        }

        foreach (var handler in _handlers)
        {
            if (handler.Channel == channel)
            {
                handler.OnNotification(payload);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database listener connection lost ({Error}: {Detail}); reconnecting")]
    private static partial void LogDropped(ILogger logger, string error, string detail);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database listener listens again: notifications sent meanwhile were missed")]
    private static partial void LogResumed(ILogger logger);

    private sealed class DeafException(string message) : Exception(message);

    /// <summary>
    /// Ready shows the listening connection: healthy only once its last echo came back (it hears what the request path
    /// notifies); degraded (still 200) while starting or reconnecting.
    /// </summary>
    internal sealed class HealthCheck(DatabaseListener listener, IOptions<DatabaseOptions> options) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
    {
        public Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
            Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var data = new Dictionary<string, object>
            {
                ["state"] = listener.State.ToString().ToLowerInvariant(),
                ["channels"] = listener._handlers.Select(h => h.Channel).ToArray(),
                ["checks_passed"] = listener.ChecksPassed,
                ["drops"] = listener.Drops,
                ["check_interval"] = options.Value.ListenerCheckInterval.ToString(),
            };
            if (listener.LastDrop is { } lastDrop)
            {
                data["last_drop"] = lastDrop;
            }

            return Task.FromResult(listener.State == ListenerState.Listening
                ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy("listening (its last echo came back)", data)
                : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Degraded(
                    $"{listener.State.ToString().ToLowerInvariant()}: notifications may be missed", data: data));
        }
    }
}
