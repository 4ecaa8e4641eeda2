using ContentPlanning.Api.Features.GetComprehensiveUserData;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

/// <summary>
/// Forced refreshes of one key: a caller never takes the result of a refresh that began before it arrived, and every caller
/// arriving during one refresh shares the next.
/// </summary>
public sealed class ForcedRefreshesTests
{
    private sealed class Refresher
    {
        public readonly List<TaskCompletionSource<int>> Started = [];

        public Task<int> RunAsync()
        {
            var refresh = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (Started)
            {
                Started.Add(refresh);
            }

            return refresh.Task;
        }

        public async Task<TaskCompletionSource<int>> WaitForStartAsync(int count)
        {
            for (var i = 0; i < 500; i++)
            {
                lock (Started)
                {
                    if (Started.Count >= count)
                    {
                        return Started[count - 1];
                    }
                }

                await Task.Delay(10);
            }

            throw new AssertionException($"refresh {count} never started");
        }
    }

    [Test]
    public async Task CallersArrivingDuringARefreshShareTheNextOneNotTheRunningOne()
    {
        var refreshes = new ForcedRefreshes<string, int>();
        var refresher = new Refresher();

        var first = refreshes.RunAsync("k", refresher.RunAsync, CancellationToken.None);
        var running = await refresher.WaitForStartAsync(1);
        var second = refreshes.RunAsync("k", refresher.RunAsync, CancellationToken.None);
        var third = refreshes.RunAsync("k", refresher.RunAsync, CancellationToken.None);

        await Task.Delay(50);
        Assert.That(refresher.Started, Has.Count.EqualTo(1), "the next refresh waits for the running one to end");
        running.SetResult(1);
        Assert.That(await first, Is.EqualTo(1));
        Assert.That(second.IsCompleted, Is.False, "a caller that arrived while refresh 1 ran never takes its result");

        var next = await refresher.WaitForStartAsync(2);
        next.SetResult(2);
        Assert.That(await second, Is.EqualTo(2));
        Assert.That(await third, Is.EqualTo(2), "both late callers share one refresh");
        Assert.That(refresher.Started, Has.Count.EqualTo(2));
    }

    [Test]
    public async Task AKeyThatWentIdleStartsAFreshRefreshAndOtherKeysNeverWait()
    {
        var refreshes = new ForcedRefreshes<string, int>();
        var refresher = new Refresher();

        var a = refreshes.RunAsync("a", refresher.RunAsync, CancellationToken.None);
        (await refresher.WaitForStartAsync(1)).SetResult(1);
        await a;

        var again = refreshes.RunAsync("a", refresher.RunAsync, CancellationToken.None);
        var other = refreshes.RunAsync("b", refresher.RunAsync, CancellationToken.None);
        await refresher.WaitForStartAsync(3);
        refresher.Started[1].SetResult(2);
        refresher.Started[2].SetResult(3);
        Assert.That(new[] { await again, await other }, Is.EquivalentTo(new[] { 2, 3 }));
    }

    [Test]
    public async Task AFailedRefreshFailsItsCallersOnlyAndTheNextWaveStillRuns()
    {
        var refreshes = new ForcedRefreshes<string, int>();
        var refresher = new Refresher();

        var first = refreshes.RunAsync("k", refresher.RunAsync, CancellationToken.None);
        var running = await refresher.WaitForStartAsync(1);
        var second = refreshes.RunAsync("k", refresher.RunAsync, CancellationToken.None);
        running.SetException(new InvalidOperationException("database down"));

        Assert.ThrowsAsync<InvalidOperationException>(async () => await first);
        (await refresher.WaitForStartAsync(2)).SetResult(7);
        Assert.That(await second, Is.EqualTo(7));
    }

    [Test]
    public async Task ACallerThatGivesUpStopsWaitingWithoutCancellingTheSharedRefresh()
    {
        var refreshes = new ForcedRefreshes<string, int>();
        var refresher = new Refresher();
        using var gaveUp = new CancellationTokenSource();

        var patient = refreshes.RunAsync("k", refresher.RunAsync, CancellationToken.None);
        var running = await refresher.WaitForStartAsync(1);
        var impatient = refreshes.RunAsync("k", refresher.RunAsync, gaveUp.Token);
        var alsoWaiting = refreshes.RunAsync("k", refresher.RunAsync, CancellationToken.None);
        await gaveUp.CancelAsync();

        Assert.ThrowsAsync<TaskCanceledException>(async () => await impatient);
        running.SetResult(1);
        (await refresher.WaitForStartAsync(2)).SetResult(2);
        Assert.That(await patient, Is.EqualTo(1));
        Assert.That(await alsoWaiting, Is.EqualTo(2));
    }
}
