using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.GenerateCalendar;

/// <summary>
/// Issue 21 items 5 and 12: ordinary but odd strategy or profile data generates a calendar (never a 500, never a job
/// that burns its attempts), and a strategy deleted while its calendar is stored is a problem, not a 500.
/// </summary>
public sealed class GeneratorInputTests : DatabaseTest
{
    private const string GenerateUrl = ApiRoot + "/calendar-generation/generate-calendar";

    [TestCase("""["x", "x"]""", TestName = "Pillars named twice")]
    [TestCase("""[{"name": "a", "weight": 1}, {"name": "a", "weight": 2}]""", TestName = "Weighted pillars named twice")]
    [TestCase("""{"a": 1e308, "b": 1e308}""", TestName = "Pillar weights whose sum is past the largest double")]
    [TestCase("""[{"name": "a", "weight": 1e308}, {"name": "A", "weight": 1.7e308}]""", TestName = "Huge weights on a pillar named twice in two cases")]
    [TestCase("""["", "  ", "ok"]""", TestName = "Blank pillar names")]
    public async Task OddPillarsGenerateACalendar(string pillars)
    {
        await Testing.ExecuteAsync("INSERT INTO content_strategies (user_id, name, content_pillars) VALUES ('odd-pillars', 'Plan', @pillars::jsonb)", new { pillars });
        using var client = Testing.CreateClient();

        using var response = await client.PostJsonAsync(GenerateUrl, """{"user_id": "odd-pillars", "calendar_type": "weekly", "start_date": "2026-03-02"}""");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task BlankPlatformKeysAndHugeNamesInTheProfileGenerateACalendar()
    {
        // Names of thousands of characters, each with a surrogate pair straddling the cut at 100 characters.
        string Long(char c) => new string(c, 99) + string.Concat(Enumerable.Repeat("\ud83d\ude00", 3000));
        await Testing.ExecuteAsync("INSERT INTO content_strategies (user_id, name, content_pillars) VALUES ('odd-profile', 'Plan', @pillars::jsonb)",
            new { pillars = System.Text.Json.JsonSerializer.Serialize(new[] { Long('p') }) });
        await Testing.ExecuteAsync("INSERT INTO content_gap_analyses (user_id, website_url, opportunities) VALUES ('odd-profile', 'https://example.org', @gaps::jsonb)",
            new { gaps = System.Text.Json.JsonSerializer.Serialize(new[] { Long('g') }) });
        using var client = Testing.CreateClient();
        using (var profile = await client.PutJsonAsync(ApiRoot + "/users/odd-profile/profile", """{"platform_preferences": {"": 1, " ": {"priority": "high"}}}"""))
        {
            Assert.That((int)profile.StatusCode, Is.InRange(200, 201), await profile.Content.ReadAsStringAsync());
        }

        using var response = await client.PostJsonAsync(GenerateUrl, """{"user_id": "odd-profile", "calendar_type": "weekly", "start_date": "2026-03-02"}""");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var titles = (await JsonAsync(response)).GetProperty("daily_schedule").EnumerateArray().Select(p => p.GetProperty("title").GetString()!).ToList();
        Assert.That(titles, Is.All.Length.LessThanOrEqualTo(500));
    }

    [Test]
    public async Task AStrategyDeletedWhileItsCalendarIsStoredIsAProblemAndStoresNothing()
    {
        var strategyId = await SeedStrategyAsync("gen-deleted");
        // The strategy goes away between generation and the store, as a concurrent DELETE can make it (foreign key 23503).
        await Testing.ExecuteAsync("""
            CREATE FUNCTION test_delete_strategy() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.user_id = 'gen-deleted' THEN DELETE FROM content_strategies WHERE id = NEW.strategy_id; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_delete_strategy BEFORE INSERT ON generated_calendars FOR EACH ROW EXECUTE FUNCTION test_delete_strategy();
            """);
        try
        {
            using var client = Testing.CreateClient();
            using var response = await client.PostJsonAsync(GenerateUrl, """{"user_id": "gen-deleted", "calendar_type": "weekly", "start_date": "2026-03-02"}""");

            Assert.That((int)response.StatusCode, Is.AnyOf(404, 409), await response.Content.ReadAsStringAsync());
            Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        }
        finally
        {
            await Testing.ExecuteAsync("DROP TRIGGER test_delete_strategy ON generated_calendars; DROP FUNCTION test_delete_strategy();");
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'gen-deleted'"), Is.Zero);
            Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_strategies WHERE id = @strategyId", new { strategyId }), Is.EqualTo(1),
                "the deletion rolled back with the refused store");
        });
    }

    [Test]
    public async Task AJobOnOddStrategyDataCompletesOnItsFirstAttempt()
    {
        await Testing.ExecuteAsync("""INSERT INTO content_strategies (user_id, name, content_pillars) VALUES ('odd-job', 'Plan', '["x", "x"]')""");
        await using var node = new ApiFactory("odd-job-node", new Dictionary<string, string?>
        {
            ["CalendarJobs:WorkersPerNode"] = "1",
            ["CalendarJobs:MinimumStepDuration"] = "00:00:00",
            ["CalendarJobs:QueuePollInterval"] = "00:00:00.500",
        });
        using var client = node.CreateClient();
        var sessionId = (await CalendarJobs.CalendarJobTests.StartAsync(client, "odd-job")).GetProperty("session_id").GetString()!;

        var job = await CalendarJobs.CalendarJobTests.WaitForAsync(client, sessionId,
            j => j.GetProperty("status").GetString() is "completed" or "failed" || j.GetProperty("attempt").GetInt32() > 1);

        Assert.Multiple(() =>
        {
            Assert.That(job.GetProperty("status").GetString(), Is.EqualTo("completed"), job.ToString());
            Assert.That(job.GetProperty("attempt").GetInt32(), Is.EqualTo(1));
        });
    }
}
