using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ContentPlanning.Api.Features.CacheCoherence;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheCoherence;

/// <summary>
/// Issue 21 item 8: SQL writes made while a node's change listener is cut off must not be answered as fresh. While the
/// listener cannot hear, cached answers say is_stale; after it listens again the node expires what it may have missed.
/// </summary>
public sealed class ListenerGapTests : DatabaseTest
{
    private const int Users = 4;

    // Writes are notified within milliseconds while the listener is up; this covers a loaded machine's scheduling delays.
    private static readonly TimeSpan Grace = TimeSpan.FromMilliseconds(500);

    [Test]
    public async Task NoAnswerShowsAnOverwrittenValueAsFreshWhileTheListenersAreKilledUnderSqlWrites()
    {
        await using var nodeA = await ChangeNotificationTests.StartListeningNodeAsync("node-gap-a");
        await using var nodeB = await ChangeNotificationTests.StartListeningNodeAsync("node-gap-b");
        HttpClient[] clients = [nodeA.CreateClient(), nodeB.CreateClient()];
        for (var u = 0; u < Users; u++)
        {
            await InsertProfileAsync($"gap-{u}", industry: "v0");
        }

        await ChangeNotificationTests.SyncAsync(nodeA, nodeB);
        var clock = Stopwatch.StartNew();
        var committed = new ConcurrentDictionary<int, (int Version, TimeSpan At)>();
        for (var u = 0; u < Users; u++)
        {
            committed[u] = (0, TimeSpan.Zero);
        }

        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var i = 1; !stop.IsCancellationRequested; i++)
            {
                var user = i % Users;
                await Testing.ExecuteAsync("UPDATE user_profiles SET industry = @Industry WHERE user_id = @UserId", new { Industry = $"v{i}", UserId = $"gap-{user}" });
                committed[user] = (i, clock.Elapsed);
                await Task.Delay(100 + (i % 3 * 100));
            }
        });

        long checkedAnswers = 0, staleFlagged = 0;
        var staleAsFresh = new ConcurrentQueue<string>();
        var readers = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            for (var i = worker; !stop.IsCancellationRequested; i += 4)
            {
                var user = i % Users;
                var expected = committed[user];
                var begun = clock.Elapsed;
                using var response = await clients[i / Users % 2].GetAsync(Url($"gap-{user}"));
                Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
                var answer = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
                var version = int.Parse(answer["data"]!["onboarding_data"]!["industry"]!.GetValue<string>()[1..], System.Globalization.CultureInfo.InvariantCulture);
                var stale = answer["cache_info"]!["is_stale"]!.GetValue<bool>();
                if (stale)
                {
                    Interlocked.Increment(ref staleFlagged);
                }

                if (begun - expected.At > Grace)
                {
                    Interlocked.Increment(ref checkedAnswers);
                    if (version < expected.Version && !stale)
                    {
                        staleAsFresh.Enqueue($"node {i / Users % 2} answered gap-{user} v{version} from {Source(answer)} as fresh, v{expected.Version} committed {(begun - expected.At).TotalMilliseconds:0} ms before");
                    }
                }
            }
        })).ToList();

        // Three cuts of both listeners while the writer goes on; each time wait until both listen again.
        for (var cut = 0; cut < 3; cut++)
        {
            await Task.Delay(700);
            var before = new[] { nodeA, nodeB }.Select(n => ChangeNotificationTests.Listener(n).BackendProcessId).ToArray();
            await Testing.ExecuteAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE '{UserChangeListener.ApplicationNamePrefix}node-gap-%'");
            var watch = Stopwatch.StartNew();
            while (new[] { nodeA, nodeB }.Select(ChangeNotificationTests.Listener).Any(l => l.State != UserChangeListener.ListenerState.Listening || before.Contains(l.BackendProcessId)))
            {
                Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(20)), "the listeners did not come back");
                await Task.Delay(20);
            }
        }

        await Task.Delay(700);
        await stop.CancelAsync();
        await writer;
        await Task.WhenAll(readers);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        TestContext.Out.WriteLine($"{checkedAnswers} answers checked against a write, {staleFlagged} flagged stale, {staleAsFresh.Count} stale-as-fresh");
        Assert.That(checkedAnswers, Is.GreaterThan(0));
        Assert.That(staleAsFresh, Is.Empty, string.Join("\n", staleAsFresh.Take(5)));
        Assert.That(staleFlagged, Is.GreaterThan(0), "answers read while the listeners were cut off were flagged stale");
    }
}
