using System.Net;
using System.Text.Json.Nodes;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.Strategies;

public sealed class ListStrategiesTests : DatabaseTest
{
    [Test]
    public async Task PagesGoNewestFirstWithoutGapsOrDuplicatesAcrossEqualTimestamps()
    {
        using var client = Testing.CreateClient();
        var t0 = new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(1230);
        // Ties straddle every page boundary of limit 3: 4 rows share t0, 3 share t0+1µs.
        var times = new[] { t0, t0, t0.AddTicks(10), t0, t0.AddTicks(10), t0.AddHours(-1), t0, t0.AddTicks(10), t0.AddDays(-2), t0.AddHours(1) };
        var rows = new List<(long Id, DateTimeOffset CreatedAt)>();
        foreach (var (time, i) in times.Select((t, i) => (t, i)))
        {
            rows.Add((await InsertAsync("user-1", $"s{i}", time), time));
        }

        await InsertAsync("user-2", "someone else's", t0);
        var expected = rows.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).Select(r => r.Id).ToList();

        var seen = new List<long>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await ListAsync(client, "user-1", 3, cursor);
            seen.AddRange(page["items"]!.AsArray().Select(s => s!["id"]!.GetValue<long>()));
            cursor = page["next_cursor"]?.GetValue<string>();
            pages++;
        }
        while (cursor is not null && pages < 10);

        Assert.That(seen, Is.EqualTo(expected));
        Assert.That(pages, Is.EqualTo(4));
    }

    [Test]
    public async Task AnExactlyFullLastPageHasNoNextCursor()
    {
        using var client = Testing.CreateClient();
        for (var i = 0; i < 4; i++)
        {
            await CreateAsync(client, "user-1", $"s{i}");
        }

        var first = await ListAsync(client, "user-1", 2, null);
        var second = await ListAsync(client, "user-1", 2, first["next_cursor"]!.GetValue<string>());

        Assert.That(second["items"]!.AsArray(), Has.Count.EqualTo(2));
        Assert.That(second["next_cursor"], Is.Null);
    }

    [Test]
    public async Task AUserWithoutStrategiesGetsAnEmptyPage()
    {
        using var client = Testing.CreateClient();

        var page = await ListAsync(client, "nobody", 20, null);

        Assert.That(page["items"]!.AsArray(), Is.Empty);
        Assert.That(page["next_cursor"], Is.Null);
    }

    [TestCase("limit=0", "limit")]
    [TestCase("limit=101", "limit")]
    [TestCase("cursor=not-a-cursor", "cursor")]
    [TestCase("cursor=bm9wZQ%3D%3D", "cursor")]
    public async Task InvalidPagingIs400NamingTheParameter(string query, string field)
    {
        using var client = Testing.CreateClient();

        using var response = await client.GetAsync($"{Root}/strategies?user_id=user-1&{query}");
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), text);
        Assert.That(JsonNode.Parse(text)!["errors"]!.AsObject().Select(e => e.Key), Does.Contain(field));
    }

    private static async Task<JsonObject> ListAsync(HttpClient client, string userId, int limit, string? cursor)
    {
        var url = $"{Root}/strategies?user_id={userId}&limit={limit}" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
        using var response = await client.GetAsync(url);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        return await ReadAsync(response);
    }
}
