using System.Net;
using Npgsql;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

/// <summary>Issue 10 item 3: a read of a strategy whose DELETE commits while the read assembles answers 404, never 500.</summary>
public sealed class DeletedStrategyReadTests : DatabaseTest
{
    [Test]
    public async Task AReadOfAStrategyBeingDeletedIsNotFoundAndWritesNoSnapshot()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("deleting-user");
        var id = await InsertStrategyAsync("deleting-user", "Going", active: true);

        await using var deleter = await Testing.DataSource.OpenConnectionAsync();
        await using var transaction = await deleter.BeginTransactionAsync();
        await using (var delete = new NpgsqlCommand("DELETE FROM content_strategies WHERE id = @id", deleter, transaction))
        {
            delete.Parameters.AddWithValue("id", id);
            await delete.ExecuteNonQueryAsync();
        }

        // The read sees the strategy (its snapshot predates the commit) and its snapshot write waits on the deleted row.
        var read = client.GetAsync(Url("deleting-user", id));
        for (var i = 0; i < 200 && await Testing.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE NOT granted") == 0; i++)
        {
            await Task.Delay(10);
        }

        await transaction.CommitAsync();
        using var answer = await read;

        Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.NotFound), await answer.Content.ReadAsStringAsync());
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache WHERE user_id = 'deleting-user'"), Is.Zero);
    }
}
