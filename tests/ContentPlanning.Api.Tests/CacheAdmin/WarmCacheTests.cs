using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;
using Dapper;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheAdmin;

public sealed class WarmCacheTests : DatabaseTest
{
    [Test]
    public async Task WarmingReportsEachUserAndAnUnknownUserDoesNotStopTheOthers()
    {
        using var client = Testing.CreateClient();
        using var admin = CreateAdminClient(Testing.Factory);
        await InsertProfileAsync("warm-1");
        await InsertProfileAsync("warm-3");

        using var response = await admin.PostAsJsonAsync($"{CacheRoot}/warm", new { user_ids = new[] { "warm-1", "ghost", "warm-3" } });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var next = await GetAsync(client, "warm-3");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToJsonString());
        Assert.That(body["requested"]!.GetValue<int>(), Is.EqualTo(3));
        Assert.That(body["warmed"]!.GetValue<int>(), Is.EqualTo(2));
        Assert.That(body["not_found"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(body["failed"]!.GetValue<int>(), Is.Zero);
        var outcomes = body["results"]!.AsArray().ToDictionary(r => r!["user_id"]!.GetValue<string>(), r => r!["status"]!.GetValue<string>());
        Assert.That(outcomes, Is.EqualTo(new Dictionary<string, string> { ["warm-1"] = "warmed", ["ghost"] = "not_found", ["warm-3"] = "warmed" }));
        Assert.That(body["results"]!.AsArray().Single(r => r!["user_id"]!.GetValue<string>() == "warm-1")!["source"]!.GetValue<string>(),
            Is.EqualTo("computed"));
        Assert.That(Source(next), Is.EqualTo("memory"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache"), Is.EqualTo(2));
    }

    [Test]
    public async Task AThousandUsersAreAccepted()
    {
        using var admin = CreateAdminClient(Testing.Factory);
        await InsertProfileAsync("warm-0");
        var ids = Enumerable.Range(0, 1000).Select(i => $"warm-{i}").ToArray();

        using var response = await admin.PostAsJsonAsync($"{CacheRoot}/warm", new { user_ids = ids });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), body.ToJsonString());
        Assert.That(body["requested"]!.GetValue<int>(), Is.EqualTo(1000));
        Assert.That(body["warmed"]!.GetValue<int>(), Is.EqualTo(1));
        Assert.That(body["not_found"]!.GetValue<int>(), Is.EqualTo(999));
        Assert.That(body["results"]!.AsArray(), Has.Count.EqualTo(1000));
    }

    [Test]
    public async Task WarmingComputesFourUsersAtATime()
    {
        using var admin = CreateAdminClient(Testing.Factory);
        var ids = Enumerable.Range(0, 10).Select(i => $"parallel-{i}").ToArray();
        foreach (var id in ids)
        {
            await InsertProfileAsync(id);
        }

        // Every assembly stops at its analytics statement while the lock is held, so the waiting ones are the running ones.
        await using var blocker = await Testing.DataSource.OpenConnectionAsync();
        await using var transaction = await blocker.BeginTransactionAsync();
        await blocker.ExecuteAsync("LOCK TABLE content_analytics IN ACCESS EXCLUSIVE MODE", transaction: transaction);
        var warming = admin.PostAsJsonAsync($"{CacheRoot}/warm", new { user_ids = ids });
        var most = 0L;
        for (var i = 0; i < 40; i++)
        {
            most = Math.Max(most, await Testing.ScalarAsync<long>(
                "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'content_analytics'::regclass"));
            await Task.Delay(25);
        }

        await transaction.RollbackAsync();
        using var response = await warming;
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

        Assert.That(most, Is.EqualTo(4), "assemblies running at once");
        Assert.That(body["warmed"]!.GetValue<int>(), Is.EqualTo(10));
    }

    private static IEnumerable<TestCaseData> BadBodies()
    {
        yield return new TestCaseData("""{"user_ids": []}""").SetArgDisplayNames("no ids");
        yield return new TestCaseData(
            $$"""{"user_ids": [{{string.Join(", ", Enumerable.Range(0, 1001).Select(i => $"\"u-{i}\""))}}]}""").SetArgDisplayNames("1001 ids");
        yield return new TestCaseData("{}").SetArgDisplayNames("user_ids missing");
        yield return new TestCaseData("""{"user_ids": ["ok", "bad id!"]}""").SetArgDisplayNames("an invalid id");
    }

    [TestCaseSource(nameof(BadBodies))]
    public async Task BadBodiesAre400AndWarmNothing(string json)
    {
        using var admin = CreateAdminClient(Testing.Factory);
        await InsertProfileAsync("ok");

        using var response = await admin.PostJsonAsync($"{CacheRoot}/warm", json);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache"), Is.Zero);
    }
}
