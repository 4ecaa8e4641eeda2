using System.Net;
using Npgsql;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.ActivateStrategy;

/// <summary>Issue 10 item 2: an activation racing a DELETE of the same strategy answers 404, never 500 nor a deadlock.</summary>
public sealed class ActivateDeleteRaceTests : DatabaseTest
{
    private const string Root = "/api/content-planning";

    [Test]
    public async Task AStrategyDeletedWhileItsActivationWaitsIsNotFound()
    {
        using var client = Testing.CreateClient();
        var id = await CreateIdAsync(client, "race-user", "Doomed");

        // Hold the user's activation lock, as another activation would.
        await using var holder = await Testing.DataSource.OpenConnectionAsync();
        await using (var command = new NpgsqlCommand("SELECT pg_advisory_lock(hashtextextended('strategy-activation:' || 'race-user', 0))", holder))
        {
            await command.ExecuteNonQueryAsync();
        }

        var activation = client.PostAsync($"{Root}/strategies/{id}/activate", null);
        await WaitUntilWaitingOnAdvisoryLockAsync();
        using (var deleted = await client.DeleteAsync($"{Root}/strategies/{id}"))
        {
            Assert.That(deleted.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", holder))
        {
            await release.ExecuteNonQueryAsync();
        }

        using var answer = await activation;
        Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), await answer.Content.ReadAsStringAsync());
        Assert.That(answer.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM strategy_activation_status WHERE strategy_id = @id", new { id }), Is.Zero);
    }

    [Test]
    public async Task ConcurrentActivationsAndDeletesOfOneUsersStrategiesNeverFail()
    {
        using var client = Testing.CreateClient();
        var other = await CreateIdAsync(client, "race-many", "Stays");
        await client.PostAsync($"{Root}/strategies/{other}/activate", null);
        var unexpected = new List<string>();
        for (var round = 0; round < 40; round++)
        {
            var id = await CreateIdAsync(client, "race-many", $"Round {round}");
            var activate = client.PostAsync($"{Root}/strategies/{id}/activate", null);
            var reactivate = client.PostAsync($"{Root}/strategies/{other}/activate", null);
            var delete = client.DeleteAsync($"{Root}/strategies/{id}");
            foreach (var (response, allowed) in new[]
                     {
                         (await activate, new[] { HttpStatusCode.OK, HttpStatusCode.NotFound }),
                         (await reactivate, new[] { HttpStatusCode.OK }),
                         (await delete, new[] { HttpStatusCode.NoContent }),
                     })
            {
                if (!allowed.Contains(response.StatusCode))
                {
                    unexpected.Add($"round {round}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }

                response.Dispose();
            }
        }

        Assert.That(unexpected, Is.Empty);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM strategy_activation_status WHERE user_id = 'race-many' AND status = 'active'"),
            Is.LessThanOrEqualTo(1));
    }

    private static async Task WaitUntilWaitingOnAdvisoryLockAsync()
    {
        for (var i = 0; i < 200; i++)
        {
            if (await Testing.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted") > 0)
            {
                return;
            }

            await Task.Delay(10);
        }

        Assert.Fail("the activation never waited on the user's lock");
    }
}
