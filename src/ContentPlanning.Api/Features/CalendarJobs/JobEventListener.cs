using System.Collections.Concurrent;
using System.Threading.Channels;
using ContentPlanning.Api.Infrastructure.Database;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// Hears (through the node's <see cref="DatabaseListener"/>) the jobs' change channel that the calendar_jobs trigger
/// notifies after each commit, and wakes the progress streams of this node that watch the changed job.
/// </summary>
public sealed class JobEventListener : IDatabaseNotificationHandler
{
    public const string ChannelName = "calendar_job_events";

    private readonly ConcurrentDictionary<Guid, ConcurrentDictionary<Subscription, byte>> _watchers = new();

    public string Channel => ChannelName;

    /// <summary>A wake-up signal for one job; dispose to stop watching.</summary>
    public Subscription Subscribe(Guid sessionId)
    {
        var subscription = new Subscription(this, sessionId);
        _watchers.GetOrAdd(sessionId, _ => new()).TryAdd(subscription, 0);
        return subscription;
    }

    public Task OnListeningAsync(bool resumed, int backendProcessId, CancellationToken cancellationToken)
    {
        // Whatever changed while nobody listened: every watcher re-reads its job once.
        WakeAll();
        return Task.CompletedTask;
    }

    public void OnListeningLost()
    {
    }

    public void OnNotification(string payload)
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
