using System.Collections.Concurrent;
using System.Threading.Channels;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// LISTENs (on a connection of its own) to the jobs' change channel that the calendar_jobs trigger notifies after each
/// commit, and wakes the progress streams of this node that watch the changed job.
/// </summary>
public sealed partial class JobEventListener(IConfiguration configuration, ILogger<JobEventListener> logger) : BackgroundService
{
    public const string Channel = "calendar_job_events";

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _watchers = new();

    /// <summary>A wake-up signal for one job; dispose to stop watching.</summary>
    public Subscription Subscribe(Guid sessionId)
    {
        var subscription = new Subscription(this, sessionId);
        _watchers.GetOrAdd(sessionId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"))
        {
            Pooling = false,
            ApplicationName = "cp-job-events",
            KeepAlive = 10,
        };
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(builder.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) => Wake(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                // Whatever changed while nobody listened: every watcher re-reads its job once.
                WakeAll();
                while (true)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
            {
                LogDropped(logger, ex.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }

    private void Wake(string payload)
    {
        if (Guid.TryParse(payload, out var id) && _watchers.TryGetValue(id, out var watchers))
        {
            foreach (var watcher in watchers.Keys)
            {
                watcher.Signal();
            }
        }
    }

    private void WakeAll()
    {
        foreach (var watcher in _watchers.Values.SelectMany(w => w.Keys))
        {
            watcher.Signal();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job event listener lost its connection ({Detail}); reconnecting")]
    private static partial void LogDropped(ILogger logger, string detail);

    public sealed class Subscription(JobEventListener owner, Guid sessionId) : IDisposable
    {
        // One pending signal is enough: the watcher re-reads the whole job.
        private readonly Channel<bool> _signals = System.Threading.Channels.Channel.CreateBounded<bool>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

        internal void Signal() => _signals.Writer.TryWrite(true);

        /// <summary>Returns when the job changed, or after <paramref name="timeout"/>.</summary>
        public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            wait.CancelAfter(timeout);
            try
            {
                await _signals.Reader.ReadAsync(wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
            }
        }

        public void Dispose()
        {
            if (owner._watchers.TryGetValue(sessionId, out var watchers))
            {
                watchers.TryRemove(this, out _);
                if (watchers.IsEmpty)
                {
                    owner._watchers.TryRemove(new KeyValuePair<Guid, ConcurrentDictionary<Subscription, byte>>(sessionId, watchers));
                }
            }
        }
    }
}
