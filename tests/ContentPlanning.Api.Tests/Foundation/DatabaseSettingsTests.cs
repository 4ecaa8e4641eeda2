using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using Npgsql;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>Issue 10 item 8: Database__CommandTimeoutSeconds bounds every command of the service.</summary>
public sealed class DatabaseSettingsTests : DatabaseTest
{
    [Test]
    public async Task ACommandBlockedLongerThanTheCommandTimeoutIsA503ProblemWithoutWaitingForTheLock()
    {
        await using var node = new ApiFactory("node-command-timeout", new Dictionary<string, string?>
        {
            ["Database:CommandTimeoutSeconds"] = "1",
            ["CacheCoherence:Enabled"] = "false",
        });
        using var client = node.CreateClient();

        // Another session holds the table: every read of it waits until that session ends.
        await using var holder = await Testing.DataSource.OpenConnectionAsync();
        await using var transaction = await holder.BeginTransactionAsync();
        await using (var lockTable = new NpgsqlCommand("LOCK TABLE content_strategies IN ACCESS EXCLUSIVE MODE", holder, transaction))
        {
            await lockTable.ExecuteNonQueryAsync();
        }

        var read = client.GetAsync("/api/content-planning/strategies?user_id=timeout-user");
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(8)));
        await transaction.RollbackAsync();

        Assert.That(finished, Is.SameAs(read), "the read still waited on the lock 8 s later: the 1 s command timeout was not applied");
        using var answer = await read;
        Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable), await answer.Content.ReadAsStringAsync());
        Assert.That(answer.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(answer.Headers.RetryAfter, Is.Not.Null);
    }
}
