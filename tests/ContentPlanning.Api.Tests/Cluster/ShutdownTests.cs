using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.Cluster;

/// <summary>SIGTERM: readiness turns unready first while the node still serves, then the node exits cleanly.</summary>
public sealed class ShutdownTests : DatabaseTest
{
    [Test]
    public async Task OnSigtermReadinessTurnsUnreadyWhileTheNodeStillServesThenItExitsCleanly()
    {
        await using var node = await ApiProcess.StartAsync("drain-node", new Dictionary<string, string>
        {
            ["Shutdown__DrainDelay"] = "00:00:03",
            ["Shutdown__Timeout"] = "00:00:10",
        });
        using var client = node.CreateClient();
        using (var before = await client.GetAsync("/health/ready"))
        {
            Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        }

        node.Terminate();
        HttpStatusCode? ready = null, live = null;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (ready != HttpStatusCode.ServiceUnavailable)
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), "readiness never turned unready");
            Assert.That(node.HasExited, Is.False, "the node stopped before readiness said so");
            using var answer = await client.GetAsync("/health/ready");
            ready = answer.StatusCode;
        }

        using (var liveness = await client.GetAsync("/health/live"))
        {
            live = liveness.StatusCode;
        }

        using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await node.WaitForExitAsync(exit.Token);
        Assert.Multiple(() =>
        {
            Assert.That(live, Is.EqualTo(HttpStatusCode.OK), "alive (not restarted) while it drains");
            Assert.That(node.ExitCode, Is.Zero, node.Output);
        });
    }
}
