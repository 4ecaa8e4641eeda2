using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.GenerateCalendar;

public sealed class GenerateCalendarApiTests : DatabaseTest
{
    private const string GenerateUrl = ApiRoot + "/calendar-generation/generate-calendar";

    private static Task<long> SeedStrategyWithPillarsAsync(string userId) =>
        Testing.ScalarAsync<long>("""
            INSERT INTO content_strategies (user_id, name, industry, content_pillars, business_objectives)
            VALUES (@userId, 'Plan', 'retail', '{"Education": 3, "Stories": 1}', '["brand awareness"]') RETURNING id
            """, new { userId });

    [Test]
    public async Task AQuarterlyCalendarIsStoredWithOneEventPerPieceAndReadsBack()
    {
        var strategyId = await SeedStrategyWithPillarsAsync("cal-1");
        using var client = Testing.CreateClient();
        using var response = await client.PostJsonAsync(GenerateUrl, """
            {"user_id": "cal-1", "calendar_type": "quarterly", "start_date": "2026-03-02", "timezone": "Europe/Berlin",
             "platforms": ["blog", "youtube", "linkedin", "instagram", "tiktok"], "pieces_per_day": 5}
            """);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var json = await JsonAsync(response);
        var id = json.GetProperty("id").GetInt64();
        var schedule = json.GetProperty("daily_schedule").EnumerateArray().ToList();
        var stored = await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events WHERE calendar_id = @id AND status = 'scheduled'", new { id });
        Assert.Multiple(() =>
        {
            Assert.That(response.Headers.Location?.ToString(), Is.EqualTo($"{ApiRoot}/calendars/{id}"));
            Assert.That(json.GetProperty("strategy_id").GetInt64(), Is.EqualTo(strategyId));
            Assert.That(json.GetProperty("end_date").GetString(), Is.EqualTo("2026-05-24"));
            Assert.That(schedule, Has.Count.EqualTo(60 * 5));
            Assert.That(json.GetProperty("event_count").GetInt32(), Is.EqualTo(300));
            Assert.That(stored, Is.EqualTo(300));
            Assert.That(json.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("step_name").GetString()).ToList(),
                Has.Member("Content Pillar Distribution").And.Count.EqualTo(12));
            Assert.That(schedule.Select(p => p.GetProperty("event_id").GetInt64()).Distinct().Count(), Is.EqualTo(300));
        });

        var first = schedule[0];
        var firstId = first.GetProperty("event_id").GetInt64();
        using (var edit = await client.PutJsonAsync($"{ApiRoot}/calendar-events/{firstId}", $$"""
            {"title": "Edited", "scheduled_at": "{{first.GetProperty("posting_time").GetString()}}", "status": "published"}
            """))
        {
            Assert.That(edit.StatusCode, Is.EqualTo(HttpStatusCode.OK), await edit.Content.ReadAsStringAsync());
        }

        using (var remove = await client.DeleteAsync($"{ApiRoot}/calendar-events/{schedule[1].GetProperty("event_id").GetInt64()}"))
        {
            Assert.That(remove.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        using var get = await client.GetAsync($"{ApiRoot}/calendars/{id}");
        var read = await JsonAsync(get);
        var readFirst = read.GetProperty("daily_schedule").EnumerateArray().Single(p => p.GetProperty("event_id").GetInt64() == firstId);
        Assert.Multiple(() =>
        {
            Assert.That(read.GetProperty("daily_schedule").GetArrayLength(), Is.EqualTo(299));
            Assert.That(read.GetProperty("event_count").GetInt32(), Is.EqualTo(299));
            Assert.That(readFirst.GetProperty("title").GetString(), Is.EqualTo("Edited"));
            Assert.That(readFirst.GetProperty("status").GetString(), Is.EqualTo("published"));
            Assert.That(readFirst.GetProperty("posting_time").GetString(), Is.EqualTo(first.GetProperty("posting_time").GetString()));
            Assert.That(readFirst.GetProperty("weekly_theme").GetString(), Is.EqualTo(first.GetProperty("weekly_theme").GetString()));
        });

        using var list = await client.GetAsync($"{ApiRoot}/calendars?user_id=cal-1");
        var items = (await JsonAsync(list)).GetProperty("items");
        Assert.That(items[0].GetProperty("id").GetInt64(), Is.EqualTo(id));
        Assert.That(items[0].GetProperty("event_count").GetInt32(), Is.EqualTo(299));

        using var delete = await client.DeleteAsync($"{ApiRoot}/calendars/{id}");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events WHERE calendar_id = @id", new { id }), Is.Zero);
        using var gone = await client.GetAsync($"{ApiRoot}/calendars/{id}");
        await AssertProblemAsync(gone, HttpStatusCode.NotFound);
    }

    [Test]
    public async Task AYearlyCalendarIsFiftyTwoWeeksStoredInOneGeneration()
    {
        await SeedStrategyWithPillarsAsync("cal-year");
        using var client = Testing.CreateClient();
        using var response = await client.PostJsonAsync(GenerateUrl, """
            {"user_id": "cal-year", "calendar_type": "yearly", "start_date": "2026-03-02", "pieces_per_day": 3}
            """);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        var json = await JsonAsync(response);
        var id = json.GetProperty("id").GetInt64();
        // Without posting days in a profile: Monday to Friday, 260 days in 52 weeks.
        var stored = await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events WHERE calendar_id = @id", new { id });
        Assert.Multiple(() =>
        {
            Assert.That(json.GetProperty("calendar_type").GetString(), Is.EqualTo("yearly"));
            Assert.That(json.GetProperty("end_date").GetString(), Is.EqualTo("2027-02-28"));
            Assert.That(json.GetProperty("weekly_themes").GetArrayLength(), Is.EqualTo(52));
            Assert.That(json.GetProperty("event_count").GetInt32(), Is.EqualTo(260 * 3));
            Assert.That(stored, Is.EqualTo(260 * 3));
        });
    }

    [Test]
    public async Task AUserWithoutStrategyGets404AndBadInput400()
    {
        using var client = Testing.CreateClient();
        using var none = await client.PostJsonAsync(GenerateUrl, """{"user_id": "cal-none", "calendar_type": "weekly"}""");
        await AssertProblemAsync(none, HttpStatusCode.NotFound);

        await SeedStrategyWithPillarsAsync("cal-2");
        using var bad = await client.PostJsonAsync(GenerateUrl, """{"user_id": "cal-2", "calendar_type": "decade", "timezone": "Mars/Base", "pieces_per_day": 9}""");
        Assert.That(bad.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await ValidationErrorFieldsAsync(bad), Is.SupersetOf(new[] { "calendar_type", "timezone", "pieces_per_day" }));
    }

    [Test]
    public async Task UnknownOrEmptyPlatformsAndFarStartDatesAre400NamingTheField()
    {
        await SeedStrategyWithPillarsAsync("cal-400");
        using var client = Testing.CreateClient();
        var far = DateOnly.FromDateTime(DateTime.UtcNow).AddYears(3).ToString("yyyy-MM-dd");
        foreach (var (body, field) in new[]
                 {
                     ("""{"user_id": "cal-400", "calendar_type": "weekly", "platforms": ["linkedin", "myspace"]}""", "platforms[1]"),
                     ("""{"user_id": "cal-400", "calendar_type": "weekly", "platforms": [""]}""", "platforms"),
                     ($$"""{"user_id": "cal-400", "calendar_type": "weekly", "start_date": "{{far}}"}""", "start_date"),
                 })
        {
            using var response = await client.PostJsonAsync(GenerateUrl, body);
            var fields = await ValidationErrorFieldsAsync(response);
            Assert.That(fields.Any(f => f.StartsWith(field.Split('[')[0], StringComparison.Ordinal)), Is.True, $"{body}: {string.Join(", ", fields)}");
        }

        // An impossible date or a wrong type fails binding: a 400 problem that names the field in errors, like validation.
        foreach (var (body, field) in new[]
                 {
                     ("""{"user_id": "cal-400", "calendar_type": "weekly", "start_date": "2026-02-30"}""", "start_date"),
                     ("""{"user_id": "cal-400", "calendar_type": "weekly", "pieces_per_day": "x"}""", "pieces_per_day"),
                     ("""{"user_id": "cal-400", "calendar_type": "weekly", "force_refresh": 3}""", "force_refresh"),
                 })
        {
            using var invalid = await client.PostJsonAsync(GenerateUrl, body);
            Assert.That(invalid.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), body);
            Assert.That(await ValidationErrorFieldsAsync(invalid), Is.EqualTo(new[] { field }), body);
        }

        using (var query = await client.GetAsync("/api/content-planning/strategies?user_id=cal-400&limit=many"))
        {
            await AssertProblemAsync(query, HttpStatusCode.BadRequest);
            Assert.That(await ValidationErrorFieldsAsync(query), Is.EqualTo(new[] { "limit" }));
        }

        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars"), Is.Zero);
    }

    [Test]
    public async Task AnotherUsersStrategyAnswersLikeAMissingOne()
    {
        var foreign = await SeedStrategyWithPillarsAsync("cal-3");
        await SeedStrategyWithPillarsAsync("cal-4");
        using var client = Testing.CreateClient();
        using var response = await client.PostJsonAsync(GenerateUrl, $$"""{"user_id": "cal-4", "strategy_id": {{foreign}}, "calendar_type": "weekly"}""");
        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Test]
    public async Task GenerationDoesNotChangeTheUsersDataVersion()
    {
        await SeedStrategyWithPillarsAsync("cal-5");
        const string Version = "SELECT coalesce((SELECT version FROM user_data_versions WHERE user_id = 'cal-5'), 0)";
        var before = await Testing.ScalarAsync<long>(Version);
        using var client = Testing.CreateClient();
        using var response = await client.PostJsonAsync(GenerateUrl, """{"user_id": "cal-5", "calendar_type": "weekly"}""");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Created), await response.Content.ReadAsStringAsync());
        Assert.That(await Testing.ScalarAsync<long>(Version), Is.EqualTo(before));
    }

    private static async Task<HttpResponseMessage> PostWithKeyAsync(HttpClient client, string key, string body)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, GenerateUrl) { Content = Body(body) };
        message.Headers.Add("Idempotency-Key", key);
        return await client.SendAsync(message);
    }

    [Test]
    public async Task ARepeatedIdempotencyKeyAnswersTheSameCalendarAndADifferentBodyIs422()
    {
        await SeedStrategyWithPillarsAsync("cal-6");
        using var client = Testing.CreateClient();
        const string Request = """{"user_id": "cal-6", "calendar_type": "weekly", "start_date": "2026-03-02"}""";
        using var first = await PostWithKeyAsync(client, "key-6", Request);
        using var second = await PostWithKeyAsync(client, "key-6", Request);
        using var other = await PostWithKeyAsync(client, "key-6", Request.Replace("weekly", "monthly", StringComparison.Ordinal));
        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created), await first.Content.ReadAsStringAsync());
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await JsonAsync(second)).GetProperty("id").GetInt64(), Is.EqualTo((await JsonAsync(first)).GetProperty("id").GetInt64()));
        await AssertProblemAsync(other, HttpStatusCode.UnprocessableEntity);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'cal-6'"), Is.EqualTo(1));
    }

    [Test]
    public async Task AnIdempotencyKeyBelongsToItsUser()
    {
        await SeedStrategyWithPillarsAsync("cal-key-a");
        await SeedStrategyWithPillarsAsync("cal-key-b");
        using var client = Testing.CreateClient();
        using var first = await PostWithKeyAsync(client, "shared-key", """{"user_id": "cal-key-a", "calendar_type": "weekly"}""");
        using var second = await PostWithKeyAsync(client, "shared-key", """{"user_id": "cal-key-b", "calendar_type": "weekly"}""");

        Assert.That(first.StatusCode, Is.EqualTo(HttpStatusCode.Created), await first.Content.ReadAsStringAsync());
        Assert.That(second.StatusCode, Is.EqualTo(HttpStatusCode.Created), await second.Content.ReadAsStringAsync());
        Assert.That((await JsonAsync(second)).GetProperty("user_id").GetString(), Is.EqualTo("cal-key-b"));
    }

    [Test]
    public async Task ConcurrentRequestsWithOneKeyGenerateOnce()
    {
        await SeedStrategyWithPillarsAsync("cal-7");
        using var client = Testing.CreateClient();
        const string Request = """{"user_id": "cal-7", "calendar_type": "monthly", "start_date": "2026-03-02", "pieces_per_day": 3}""";
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => PostWithKeyAsync(client, "key-7", Request)));
        var ids = new List<long>();
        foreach (var response in responses)
        {
            Assert.That(response.StatusCode, Is.AnyOf(HttpStatusCode.Created, HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
            ids.Add((await JsonAsync(response)).GetProperty("id").GetInt64());
            response.Dispose();
        }

        Assert.That(ids.Distinct().Count(), Is.EqualTo(1));
        Assert.That(responses.Count(r => r.StatusCode == HttpStatusCode.Created), Is.EqualTo(1));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'cal-7'"), Is.EqualTo(1));
    }

    [Test]
    public async Task ConcurrentGenerationsOnATwoConnectionPoolAllSucceed()
    {
        // A generation holds at most one pooled connection at a time. One held across the comprehensive read (which takes
        // its own from the same pool) let concurrent generations exhaust the pool waiting on each other: 503s after the
        // pool's timeout, through PgBouncer's default pool as well as here.
        await SeedStrategyWithPillarsAsync("cal-pool");
        var smallPool = new Npgsql.NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString) { MaxPoolSize = 2 }.ConnectionString;
        await using var node = new ApiFactory("node-small-pool", new Dictionary<string, string?> { ["ConnectionStrings:Postgres"] = smallPool });
        using var client = node.CreateClient();
        const string Request = """{"user_id": "cal-pool", "calendar_type": "weekly", "start_date": "2026-03-02"}""";
        var statuses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            using var response = await PostWithKeyAsync(client, $"pool-{i % 4}", Request);
            return response.StatusCode;
        }));

        Assert.That(statuses, Is.All.EqualTo(HttpStatusCode.Created).Or.EqualTo(HttpStatusCode.OK), string.Join(", ", statuses));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'cal-pool'"), Is.EqualTo(4));
    }

    [Test]
    public async Task TwoGenerationsOfOneRequestAreIdenticalApartFromIdsAndTimestamps()
    {
        await SeedStrategyWithPillarsAsync("cal-8");
        using var client = Testing.CreateClient();
        const string Request = """{"user_id": "cal-8", "calendar_type": "weekly", "start_date": "2026-03-02", "pieces_per_day": 2}""";
        using var a = await client.PostJsonAsync(GenerateUrl, Request);
        using var b = await client.PostJsonAsync(GenerateUrl, Request);
        static string Plan(System.Text.Json.JsonElement json) => string.Join("\n", json.GetProperty("daily_schedule").EnumerateArray()
            .Select(p => $"{p.GetProperty("title")}|{p.GetProperty("platform")}|{p.GetProperty("pillar")}|{p.GetProperty("posting_time")}"));
        var (ja, jb) = (await JsonAsync(a), await JsonAsync(b));
        Assert.That(Plan(jb), Is.EqualTo(Plan(ja)));
        Assert.That(jb.GetProperty("quality_score").GetDouble(), Is.EqualTo(ja.GetProperty("quality_score").GetDouble()));
    }

    [Test]
    public async Task CalendarAndEventWritesRefreshTheCachedStrategySummary()
    {
        var strategyId = await SeedStrategyWithPillarsAsync("cal-9");
        using var client = Testing.CreateClient();
        var summaryUrl = $"{ApiRoot}/strategies/{strategyId}/summary";
        using (var before = await client.GetAsync(summaryUrl))
        {
            Assert.That((await JsonAsync(before)).GetProperty("latest_calendar").ValueKind, Is.EqualTo(System.Text.Json.JsonValueKind.Null));
        }

        using var generated = await client.PostJsonAsync(GenerateUrl, """{"user_id": "cal-9", "calendar_type": "weekly", "start_date": "2026-03-02"}""");
        var calendar = await JsonAsync(generated);
        using (var after = await client.GetAsync(summaryUrl))
        {
            var summary = await JsonAsync(after);
            Assert.That(summary.GetProperty("latest_calendar").GetProperty("id").GetInt64(), Is.EqualTo(calendar.GetProperty("id").GetInt64()));
            Assert.That(summary.GetProperty("calendar_events").GetProperty("total").GetInt32(), Is.EqualTo(5));
        }

        var eventId = calendar.GetProperty("daily_schedule")[0].GetProperty("event_id").GetInt64();
        using var delete = await client.DeleteAsync($"{ApiRoot}/calendar-events/{eventId}");
        Assert.That(delete.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        using var last = await client.GetAsync(summaryUrl);
        Assert.That((await JsonAsync(last)).GetProperty("calendar_events").GetProperty("total").GetInt32(), Is.EqualTo(4));
    }

    [Test]
    public async Task AnEventInsertFailingMidwayStoresNothing()
    {
        var strategyId = await SeedStrategyWithPillarsAsync("cal-10");
        // A trigger that refuses the fourth piece of this strategy's generation: the statement fails after earlier rows went in.
        await Testing.ExecuteAsync($$"""
            CREATE FUNCTION test_fail_fourth_piece() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.strategy_id = {{strategyId}} AND (NEW.details ->> 'piece_index')::int = 3 THEN
                    RAISE EXCEPTION 'injected failure';
                END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER test_fail_fourth_piece BEFORE INSERT ON calendar_events FOR EACH ROW EXECUTE FUNCTION test_fail_fourth_piece();
            """);
        try
        {
            using var client = Testing.CreateClient();
            using var response = await client.PostJsonAsync(GenerateUrl, """{"user_id": "cal-10", "calendar_type": "weekly", "start_date": "2026-03-02"}""");
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        }
        finally
        {
            await Testing.ExecuteAsync("DROP TRIGGER test_fail_fourth_piece ON calendar_events; DROP FUNCTION test_fail_fourth_piece();");
        }

        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM generated_calendars WHERE user_id = 'cal-10'"), Is.Zero);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM calendar_events WHERE strategy_id = @strategyId", new { strategyId }), Is.Zero);
    }
}
