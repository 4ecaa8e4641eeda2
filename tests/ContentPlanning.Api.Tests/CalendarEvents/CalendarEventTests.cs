using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarEvents;

public sealed class CalendarEventTests : DatabaseTest
{
    private const string Url = ApiRoot + "/calendar-events";

    private static string Event(long strategyId, string title, string at, string status = "draft") =>
        $$"""{"strategy_id": {{strategyId}}, "title": "{{title}}", "scheduled_at": "{{at}}", "platform": "blog", "status": "{{status}}"}""";

    private static string Update(string title, string status) =>
        $$"""{"title": "{{title}}", "scheduled_at": "2026-04-01T09:00:00+02:00", "status": "{{status}}", "platform": "blog"}""";

    [Test]
    public async Task StatusMovesForwardOnlyAndPublishedIsFinal()
    {
        var strategy = await SeedStrategyAsync("ev-1");
        using var client = Testing.CreateClient();
        using var created = await client.PostJsonAsync(Url, Event(strategy, "Launch post", "2026-04-01T09:00:00+02:00"));
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        var id = (await JsonAsync(created)).GetProperty("id").GetInt64();
        Assert.That(created.Headers.Location?.ToString(), Is.EqualTo($"{Url}/{id}"));

        using var skip = await client.PutJsonAsync($"{Url}/{id}", Update("Launch post", "published"));
        await AssertProblemAsync(skip, HttpStatusCode.Conflict);
        Assert.That(await skip.Content.ReadAsStringAsync(), Does.Contain("draft").And.Contain("published"));

        foreach (var status in new[] { "scheduled", "published" })
        {
            using var move = await client.PutJsonAsync($"{Url}/{id}", Update("Launch post v2", status));
            Assert.That(move.StatusCode, Is.EqualTo(HttpStatusCode.OK), await move.Content.ReadAsStringAsync());
            Assert.That((await JsonAsync(move)).GetProperty("status").GetString(), Is.EqualTo(status));
        }

        using var cancel = await client.PutJsonAsync($"{Url}/{id}", Update("Launch post v2", "cancelled"));
        await AssertProblemAsync(cancel, HttpStatusCode.Conflict);

        using var get = await client.GetAsync($"{Url}/{id}");
        Assert.That((await JsonAsync(get)).GetProperty("title").GetString(), Is.EqualTo("Launch post v2"));
        using var delete = await client.DeleteAsync($"{Url}/{id}");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        using var gone = await client.GetAsync($"{Url}/{id}");
        await AssertProblemAsync(gone, HttpStatusCode.NotFound);
    }

    [Test]
    public async Task ListingPagesByScheduledTimeAndFilters()
    {
        var strategy = await SeedStrategyAsync("ev-2");
        var other = await SeedStrategyAsync("ev-3");
        using var client = Testing.CreateClient();
        foreach (var (title, at) in new[] { ("C", "2026-04-03T09:00:00Z"), ("A", "2026-04-01T09:00:00Z"), ("B", "2026-04-02T09:00:00Z") })
        {
            using var r = await client.PostJsonAsync(Url, Event(strategy, title, at, "scheduled"));
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        using (var r = await client.PostJsonAsync(Url, Event(other, "Other", "2026-04-01T08:00:00Z")))
        {
            Assert.That(r.StatusCode, Is.EqualTo(HttpStatusCode.Created));
        }

        using var page1 = await client.GetAsync($"{Url}?user_id=ev-2&limit=2");
        var json1 = await JsonAsync(page1);
        Assert.That(json1.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("title").GetString()), Is.EqualTo(new[] { "A", "B" }));
        var cursor = json1.GetProperty("next_cursor").GetString();
        using var page2 = await client.GetAsync($"{Url}?user_id=ev-2&limit=2&cursor={Uri.EscapeDataString(cursor!)}");
        var json2 = await JsonAsync(page2);
        Assert.That(json2.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("title").GetString()), Is.EqualTo(new[] { "C" }));
        Assert.That(json2.GetProperty("next_cursor").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));

        using var filtered = await client.GetAsync($"{Url}?strategy_id={strategy}&from=2026-04-02T00:00:00Z");
        Assert.That((await JsonAsync(filtered)).GetProperty("items").GetArrayLength(), Is.EqualTo(2));

        using var none = await client.GetAsync(Url);
        Assert.That(none.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
    }

    [Test]
    public async Task AMissingStrategyIs404AndBadInput400()
    {
        using var client = Testing.CreateClient();
        using var missing = await client.PostJsonAsync(Url, Event(987654, "X", "2026-04-01T09:00:00Z"));
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
        var strategy = await SeedStrategyAsync("ev-4");
        using var bad = await client.PostJsonAsync(Url, Event(strategy, "", "2026-04-01T09:00:00Z", "published"));
        Assert.That(await ValidationErrorFieldsAsync(bad), Is.SupersetOf(new[] { "title", "status" }));
    }
}
