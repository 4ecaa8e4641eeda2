using System.Net;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheAdmin;

public sealed class CleanupSnapshotsTests : DatabaseTest
{
    [Test]
    public async Task CleanupDeletesExactlyTheExpiredRows()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        foreach (var user in new[] { "clean-1", "clean-2", "clean-3", "clean-4" })
        {
            await InsertProfileAsync(user);
            await GetAsync(client, user);
        }

        await Testing.ExecuteAsync("""
            UPDATE comprehensive_user_data_cache SET expires_at = now() - interval '1 second' WHERE user_id IN ('clean-1', 'clean-3')
            """);

        var first = await CleanupAsync(admin);
        var second = await CleanupAsync(admin);
        var left = await Testing.ScalarAsync<string[]>("SELECT array_agg(user_id::text ORDER BY user_id) FROM comprehensive_user_data_cache");

        Assert.That(first["deleted_count"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(second["deleted_count"]!.GetValue<int>(), Is.Zero);
        Assert.That(left, Is.EqualTo(new[] { "clean-2", "clean-4" }));
    }

    [Test]
    public async Task CleanupDeletesMoreExpiredRowsThanOneBatchHolds()
    {
        using var admin = CreateAdminClient(Testing.Factory);
        await Testing.ExecuteAsync("""
            INSERT INTO comprehensive_user_data_cache (user_id, data_hash, comprehensive_data, expires_at)
            SELECT 'bulk-' || i, repeat('0', 64), '{}'::jsonb, now() - interval '1 minute' * (i % 5 + 1)
            FROM generate_series(1, 2500) AS i
            UNION ALL
            SELECT 'live-' || i, repeat('0', 64), '{}'::jsonb, now() + interval '1 hour'
            FROM generate_series(1, 3) AS i
            """);

        var response = await CleanupAsync(admin);

        Assert.That(response["deleted_count"]!.GetValue<int>(), Is.EqualTo(2500));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache"), Is.EqualTo(3));
    }

    [Test]
    public async Task TheBackgroundCleanupDeletesExpiredRowsOnItsOwn()
    {
        await using var node = new ApiFactory("node-b", new Dictionary<string, string?> { ["CacheAdmin:CleanupInterval"] = "00:00:01" });
        _ = node.Server;
        await Testing.ExecuteAsync("""
            INSERT INTO comprehensive_user_data_cache (user_id, data_hash, comprehensive_data, expires_at)
            VALUES ('old', repeat('0', 64), '{}'::jsonb, now() - interval '1 minute'),
                   ('new', repeat('0', 64), '{}'::jsonb, now() + interval '1 hour')
            """);

        var left = 2L;
        for (var i = 0; i < 50 && left > 1; i++)
        {
            await Task.Delay(100);
            left = await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache");
        }

        Assert.That(await Testing.ScalarAsync<string[]>("SELECT array_agg(user_id::text) FROM comprehensive_user_data_cache"), Is.EqualTo(new[] { "new" }));
    }

    private static async Task<JsonNode> CleanupAsync(HttpClient admin)
    {
        using var response = await admin.PostAsync($"{CacheRoot}/cleanup", null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body);
        return JsonNode.Parse(body)!;
    }
}
