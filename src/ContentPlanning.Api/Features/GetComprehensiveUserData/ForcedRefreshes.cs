namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// Coalesces concurrent forced refreshes of one key without weakening what a forced answer promises (it reflects every
/// write committed before the request began). A refresh already running when a request arrives may have read the data
/// before that request's preceding writes, so the request never takes its result; instead every request arriving while
/// one runs shares the NEXT refresh, which starts when the running one ends (so after all of them arrived). N concurrent
/// forced reads of one key cost at most two refreshes in a row instead of N.
/// </summary>
internal sealed class ForcedRefreshes<TKey, TResult> where TKey : notnull
{
    private sealed class Waves
    {
        public Task<TResult>? Running;
        public Task<TResult>? Next;
    }

    private readonly Dictionary<TKey, Waves> _waves = [];
    private readonly Lock _gate = new();

    /// <summary>
    /// Runs <paramref name="refresh"/> for <paramref name="key"/>, or joins a refresh that starts after this call.
    /// The shared refresh is not cancelled by one caller's token; each caller stops waiting on its own.
    /// </summary>
    public Task<TResult> RunAsync(TKey key, Func<Task<TResult>> refresh, CancellationToken cancellationToken)
    {
        Task<TResult> joined;
        lock (_gate)
        {
            if (!_waves.TryGetValue(key, out var waves))
            {
                waves = new Waves();
                _waves[key] = waves;
            }

            if (waves.Running is null)
            {
                joined = waves.Running = StartAsync(key, waves, refresh, after: null);
            }
            else
            {
                joined = waves.Next ??= StartAsync(key, waves, refresh, after: waves.Running);
            }
        }

        return joined.WaitAsync(cancellationToken);
    }

    private async Task<TResult> StartAsync(TKey key, Waves waves, Func<Task<TResult>> refresh, Task<TResult>? after)
    {
        if (after is not null)
        {
            // Only its end matters here: its outcome belongs to its own callers.
            await after.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default)
                .ConfigureAwait(false);
        }
        else
        {
            await Task.Yield();
        }

        try
        {
            return await refresh().ConfigureAwait(false);
        }
        finally
        {
            lock (_gate)
            {
                // This wave is done: the next one (if any) is the running one now; nothing left means the key is idle.
                waves.Running = waves.Next;
                waves.Next = null;
                if (waves.Running is null)
                {
                    _waves.Remove(key);
                }
            }
        }
    }
}
