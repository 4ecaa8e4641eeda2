using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Mvc.ApiExplorer;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>
/// Every operation the API describes (so a new route is swept without touching this test) receives hostile values in its
/// path, query and body: NUL characters, trailing newlines, path traversal and SQL strings, numbers no column holds, wrong
/// JSON types, nulls, deep nesting, impossible dates. No answer may be a 5xx; every 4xx is a problem; the service stays
/// healthy. A route that answers 500 to any of them fails this test with the request that did it.
/// </summary>
public sealed class HostileInputSweepTests : DatabaseTest
{
    private static readonly string[] HostileTexts =
        ["a\u0000b", "demo-dave\n", "../../etc/passwd", "' OR '1'='1'; --", "99999999999999999999999", "-1", "2026-02-30T25:61:00Z", "Mars/Base", "\u00e9\ud83d\ude00"];

    // A NUL in the path never reaches the app (Kestrel answers 400 itself; the test server refuses to send it): NUL goes in queries and bodies.
    private static readonly string[] HostilePathSegments =
        ["a%01b", "demo-dave%0A", "..%2F..%2Fetc%2Fpasswd", "%27%20OR%201%3D1", "99999999999999999999999", "-1", "0"];

    [Test]
    public async Task NoOperationAnswersHostileInputWithA5xx()
    {
        using var client = Testing.CreateClient();
        var operations = Testing.Factory.Services.GetRequiredService<IApiDescriptionGroupCollectionProvider>()
            .ApiDescriptionGroups.Items.SelectMany(g => g.Items)
            .Where(d => d.RelativePath?.StartsWith("api/content-planning", StringComparison.Ordinal) == true)
            .ToList();
        Assert.That(operations, Has.Count.GreaterThan(30), "the sweep sees the API's operations");

        var failures = new List<string>();
        var sent = 0;
        var rejectedWrites = 0;
        foreach (var operation in operations)
        {
            foreach (var (url, body) in Requests(operation))
            {
                var write = operation.HttpMethod is not ("GET" or "HEAD");
                var before = write ? await FingerprintAsync() : null;
                using var response = await SendAsync(client, operation.HttpMethod!, url, body, idempotencyKey: "sweep\u00e9");
                sent++;
                if (Verdict(response) is { } wrong)
                {
                    failures.Add($"{operation.HttpMethod} {url} {Shorten(body)} -> {wrong}: {Shorten(await response.Content.ReadAsStringAsync())}");
                }

                if (write && (int)response.StatusCode >= 400 && await FingerprintAsync() is var after && after != before)
                {
                    rejectedWrites++;
                    failures.Add($"{operation.HttpMethod} {url} {Shorten(body)} -> {(int)response.StatusCode} but the data changed: {Difference(before!, after)}");
                }
                else if (write && (int)response.StatusCode >= 400)
                {
                    rejectedWrites++;
                }
            }
        }

        TestContext.Out.WriteLine($"hostile-input sweep: {operations.Count} operations, {sent} requests, {rejectedWrites} rejected writes (data unchanged after each), {failures.Count} failures");
        Assert.That(failures, Is.Empty);
        using var ready = await client.GetAsync("/health/ready");
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK), "healthy after the sweep");
    }

    /// <summary>
    /// Issue 21's kinds of input, sent to every operation with a body as an otherwise plausible request (ids of a seeded
    /// user's rows, valid enums and dates) so they reach the slice: duplicate keys and lone surrogate escapes in JSON values
    /// and keys (top level and nested), lone surrogates in text fields, numbers near the largest double, duplicate pillars,
    /// blank platform keys, descriptions over their limit, and a calendar already holding its maximum of events. The
    /// seeded user's data itself holds such values (metrics summing past the largest double, pillars named twice, blank
    /// platform keys, a full calendar), and every operation without a body reads or acts on it. No 5xx; every rejected
    /// write leaves every table as it was.
    /// </summary>
    [Test]
    public async Task NoOperationAnswersIssue21InputKindsOrDataWithA5xx()
    {
        var seeded = await SeedHostileUserAsync();
        using var client = Testing.CreateClient();
        var operations = Testing.Factory.Services.GetRequiredService<IApiDescriptionGroupCollectionProvider>()
            .ApiDescriptionGroups.Items.SelectMany(g => g.Items)
            .Where(d => d.RelativePath?.StartsWith("api/content-planning", StringComparison.Ordinal) == true)
            .ToList();

        var failures = new List<string>();
        var sent = 0;
        var rejectedWrites = 0;
        foreach (var operation in operations)
        {
            var url = SeededUrl(operation, seeded);
            var bodyType = operation.ParameterDescriptions.FirstOrDefault(p => p.Source == BindingSource.Body)?.Type;
            IEnumerable<string?> bodies = bodyType is null ? [null] : Issue21Kinds.Select(kind => (string?)PlausibleBody(bodyType, seeded, kind));
            foreach (var body in bodies)
            {
                // Deleting the seeded rows would leave the remaining operations nothing hostile to read.
                if (operation.HttpMethod == "DELETE")
                {
                    continue;
                }

                var write = operation.HttpMethod is not ("GET" or "HEAD");
                var before = write ? await FingerprintAsync() : null;
                using var response = await SendAsync(client, operation.HttpMethod!, url, body);
                sent++;
                if (Verdict(response) is { } wrong)
                {
                    failures.Add($"{operation.HttpMethod} {url} {Shorten(body)} -> {wrong}: {Shorten(await response.Content.ReadAsStringAsync())}");
                }

                if (write && (int)response.StatusCode >= 400)
                {
                    rejectedWrites++;
                    if (await FingerprintAsync() is var after && after != before)
                    {
                        failures.Add($"{operation.HttpMethod} {url} {Shorten(body)} -> {(int)response.StatusCode} but the data changed: {Difference(before!, after)}");
                    }
                }
            }
        }

        TestContext.Out.WriteLine($"issue-21 sweep: {operations.Count} operations, {sent} requests, {rejectedWrites} rejected writes (data unchanged after each), {failures.Count} failures");
        Assert.That(failures, Is.Empty);
        Assert.That(sent, Is.GreaterThan(100), "the kinds reached the operations");
    }

    private sealed record Seeded(string UserId, long StrategyId, long CalendarId, long EventId, long GapId, long RecommendationId, long AnalyticsId);

    /// <summary>A user whose data holds the values issue 21 found: the calendar is full, the metrics sum past the largest double.</summary>
    private static async Task<Seeded> SeedHostileUserAsync()
    {
        const string user = "sweep-hostile";
        var strategyId = await Testing.ScalarAsync<long>("""
            INSERT INTO content_strategies (user_id, name, content_pillars, optimal_timing)
            VALUES (@user, 'Hostile', '["x", "x", {"name": "X", "weight": 1e308}, {"name": "y", "weight": 1.7e308}, ""]', '{"": "09:00"}') RETURNING id
            """, new { user });
        await Testing.ExecuteAsync("""
            INSERT INTO strategy_activation_status (strategy_id, user_id, status, activation_date) VALUES (@strategyId, @user, 'active', now());
            INSERT INTO user_profiles (user_id, platform_preferences, posting_days) VALUES (@user, '{"": 1, " ": {"priority": "high"}}', '["", "monday", "monday"]');
            """, new { strategyId, user });
        // A calendar generated from those pillars and that profile, then filled up to its maximum of events.
        using var client = Testing.CreateClient();
        using var generate = new StringContent(
            $$"""{"user_id": "{{user}}", "calendar_type": "weekly", "timezone": "Europe/Berlin"}""", Encoding.UTF8, "application/json");
        using var generated = await client.PostAsync("/api/content-planning/calendar-generation/generate-calendar", generate);
        Assert.That(generated.StatusCode, Is.EqualTo(HttpStatusCode.Created), await generated.Content.ReadAsStringAsync());
        var calendarId = JsonNode.Parse(await generated.Content.ReadAsStringAsync())!["id"]!.GetValue<long>();
        await Testing.ExecuteAsync($$"""
            INSERT INTO calendar_events (strategy_id, calendar_id, title, description, scheduled_at, status, platform)
            SELECT @strategyId, @calendarId, CASE WHEN g % 2 = 0 THEN '=HYPERLINK("http://evil.example")' ELSE 'ab' || repeat('😀', 40) END,
                   CASE WHEN g <= 10 THEN repeat('d', {{Api.Features.CalendarEvents.CalendarEvent.MaxDescriptionLength}}) END,
                   '2026-03-02'::timestamptz + g * interval '1 minute', 'scheduled', CASE WHEN g % 3 = 0 THEN '' ELSE 'blog' END
            FROM generate_series(1, {{Api.Features.CalendarEvents.CalendarEvent.MaxPerCalendar}} - (SELECT count(*) FROM calendar_events WHERE calendar_id = @calendarId)) g
            """, new { strategyId, calendarId });
        var eventId = await Testing.ScalarAsync<long>("SELECT min(id) FROM calendar_events WHERE calendar_id = @calendarId", new { calendarId });
        var gapId = await Testing.ScalarAsync<long>("""
            INSERT INTO content_gap_analyses (user_id, website_url, opportunities) VALUES (@user, 'https://example.org', '["x", "x", ""]') RETURNING id
            """, new { user });
        var recommendationId = await Testing.ScalarAsync<long>("""
            INSERT INTO content_recommendations (user_id, strategy_id, recommendation_type, title, platforms) VALUES (@user, @strategyId, 'blog', 'r', '["", "blog", "blog"]') RETURNING id
            """, new { user, strategyId });
        var analyticsId = await Testing.ScalarAsync<long>("""
            INSERT INTO content_analytics (user_id, strategy_id, event_id, platform, metrics)
            SELECT @user, @strategyId, NULL, 'blog', '{"views": 1.7e308, "likes": -1.7e308}' FROM generate_series(1, 2) RETURNING id
            """, new { user, strategyId });
        return new Seeded(user, strategyId, calendarId, eventId, gapId, recommendationId, analyticsId);
    }

    /// <summary>The operation's route with each parameter set to the seeded row its area names (a new session id for jobs).</summary>
    private static string SeededUrl(ApiDescription operation, Seeded seeded)
    {
        var path = operation.RelativePath!;
        var area = path.Split('/')[2];
        var id = area switch
        {
            "strategies" => seeded.StrategyId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "calendars" => seeded.CalendarId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "calendar-events" => seeded.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "gap-analysis" => seeded.GapId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "recommendations" => seeded.RecommendationId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "analytics" => seeded.AnalyticsId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            _ => Guid.NewGuid().ToString(),
        };
        path = System.Text.RegularExpressions.Regex.Replace(path, "\\{user_id[^}]*\\}", seeded.UserId);
        path = System.Text.RegularExpressions.Regex.Replace(path, "\\{[^}]+\\}", id);
        var query = operation.ParameterDescriptions.Where(p => p.Source == BindingSource.Query).Select(p => p.Name switch
        {
            "user_id" => $"user_id={seeded.UserId}",
            "strategy_id" => $"strategy_id={seeded.StrategyId}",
            "calendar_id" => $"calendar_id={seeded.CalendarId}",
            "format" => "format=csv",
            "limit" => "limit=100",
            var name => $"{name}=%ED%A0%80",
        }).ToList();
        return "/" + path + (query.Count == 0 ? "" : "?" + string.Join('&', query));
    }

    private enum Kind
    {
        DuplicateKeys,
        NestedDuplicateKeys,
        LoneSurrogateValue,
        LoneSurrogateKey,
        LoneSurrogateText,
        HugeNumbers,
        DuplicatePillars,
        BlankPlatformKeys,
        HugeDescriptions,
    }

    private static readonly Kind[] Issue21Kinds = Enum.GetValues<Kind>();

    /// <summary>Raw JSON (so keys may repeat and escapes may be lone): plausible values for every field, the kind where it applies.</summary>
    private static string PlausibleBody(Type type, Seeded seeded, Kind kind)
    {
        var fields = new List<string>();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                     .Where(p => p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<System.Text.Json.Serialization.JsonIgnoreAttribute>() is null))
        {
            var name = JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name);
            if (PlausibleValue(name, property.PropertyType, seeded, kind) is { } value)
            {
                fields.Add($"\"{name}\": {value}");
            }
        }

        return "{" + string.Join(", ", fields) + "}";
    }

    private static string? PlausibleValue(string name, Type type, Seeded seeded, Kind kind)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (typeof(JsonNode).IsAssignableFrom(underlying))
        {
            return kind switch
            {
                Kind.DuplicateKeys => """{"a": 1, "a": 2}""",
                Kind.NestedDuplicateKeys => """{"x": [{"b": {"a": 1, "a": 2}}]}""",
                Kind.LoneSurrogateValue => """{"k": "\ud800", "list": ["\udc00"]}""",
                Kind.LoneSurrogateKey => """{"n": {"\ud800x": 1}}""",
                Kind.HugeNumbers => """{"views": 1.7e308, "likes": -1.7e308, "weight": 1e308}""",
                Kind.DuplicatePillars => """["x", "x", {"name": "x", "weight": 1e308}, {"name": "X", "weight": 2}]""",
                Kind.BlankPlatformKeys => """{"": 1, " ": {"priority": "high"}}""",
                _ => """["blog"]""",
            };
        }

        if (underlying == typeof(string))
        {
            return (kind, name) switch
            {
                (Kind.LoneSurrogateText, not "user_id") => "\"\\ud800 text\"",
                (Kind.HugeDescriptions, "description") => JsonSerializer.Serialize(new string('d', Api.Features.CalendarEvents.CalendarEvent.MaxDescriptionLength + 1)),
                (_, "user_id") => JsonSerializer.Serialize(seeded.UserId),
                (_, "calendar_type") => "\"weekly\"",
                (_, "status") => "\"draft\"",
                (_, "priority") => "\"high\"",
                (_, "timezone") => "\"Europe/Berlin\"",
                (_, "business_size") => "\"sme\"",
                (_, "platform" or "recommendation_type") => "\"blog\"",
                (_, "website_url") => "\"https://example.org\"",
                (_, "callback_url") => null,
                _ => "\"x\"",
            };
        }

        if (underlying == typeof(long) || underlying == typeof(int))
        {
            return name switch
            {
                "strategy_id" => seeded.StrategyId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "calendar_id" => seeded.CalendarId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "event_id" => seeded.EventId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "1",
            };
        }

        if (underlying == typeof(DateTimeOffset) || underlying == typeof(DateTime))
        {
            return "\"2026-03-02T09:00:00Z\"";
        }

        if (underlying == typeof(DateOnly))
        {
            return JsonSerializer.Serialize(DateOnly.FromDateTime(DateTime.UtcNow.AddDays(7)).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture));
        }

        if (underlying == typeof(bool))
        {
            return "true";
        }

        if (underlying == typeof(double) || underlying == typeof(float) || underlying == typeof(decimal))
        {
            return kind == Kind.HugeNumbers ? "1.7e308" : "0.5";
        }

        if (underlying != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(underlying))
        {
            return kind switch
            {
                Kind.LoneSurrogateText => """["\udc00"]""",
                Kind.BlankPlatformKeys => """["", " "]""",
                _ => name.Contains("platform", StringComparison.Ordinal) ? """["blog", "blog"]""" : """["x", "x"]""",
            };
        }

        return null;
    }

    /// <summary>What the sweep rejects in an answer: any 5xx, and a 4xx that is not a problem. Null when acceptable.</summary>
    internal static string? Verdict(HttpResponseMessage response)
    {
        var status = (int)response.StatusCode;
        var type = response.Content.Headers.ContentType?.MediaType;
        return status >= 500 || (status >= 400 && type != "application/problem+json") ? $"{status} {type}" : null;
    }

    [Test]
    public async Task TheSweepsVerdictFlagsARouteThatAnswers500AndA4xxThatIsNoProblem()
    {
        // The test host's fault route answers 500 (as a problem) the way a broken new route would; it is kept out of the
        // document, so the sweep never calls it, but its answer shows the verdict the sweep applies would report it.
        using var client = Testing.CreateClient();
        using var broken = await client.GetAsync("/api/content-planning/test/throw");
        using var plain = new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("nope") };
        using var fine = new HttpResponseMessage(HttpStatusCode.BadRequest) { Content = new StringContent("{}", Encoding.UTF8, "application/problem+json") };
        Assert.Multiple(() =>
        {
            Assert.That(Verdict(broken), Is.EqualTo("500 application/problem+json"));
            Assert.That(Verdict(plain), Is.EqualTo("404 text/plain"));
            Assert.That(Verdict(fine), Is.Null);
        });
    }

    // Every table's rows, hashed: a rejected write must leave all of them as they were. The snapshot table is written by
    // reads (the cache's persistent tier), so it is not part of the data a write may not touch.
    private static string? _fingerprintSql;

    private static async Task<string> FingerprintAsync()
    {
        _fingerprintSql ??= string.Join(" UNION ALL ", (await QueryTablesAsync(await Testing.DataSource.OpenConnectionAsync())).Select(t =>
            $"SELECT '{t}' AS t, count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') AS f FROM {t} x"));
        await using var connection = await Testing.DataSource.OpenConnectionAsync();
        await using var command = new Npgsql.NpgsqlCommand($"SELECT string_agg(t || '=' || f, ';' ORDER BY t) FROM ({_fingerprintSql}) s", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static string Difference(string before, string after) =>
        string.Join(", ", before.Split(';').Zip(after.Split(';')).Where(p => p.First != p.Second).Select(p => p.First.Split('=')[0]));

    private static IEnumerable<(string Url, string? Body)> Requests(ApiDescription operation)
    {
        var parameters = operation.ParameterDescriptions;
        var bodyType = parameters.FirstOrDefault(p => p.Source == BindingSource.Body)?.Type;
        var query = parameters.Where(p => p.Source == BindingSource.Query).Select(p => p.Name).ToList();
        var validBody = bodyType is null ? null : Body(bodyType, _ => JsonValue.Create("x"));

        foreach (var segment in HostilePathSegments)
        {
            yield return (Url(operation, segment, query.Select(q => (q, segment))), validBody);
        }

        foreach (var text in HostileTexts)
        {
            yield return (Url(operation, "1", query.Select(q => (q, Uri.EscapeDataString(text)))), validBody);
        }

        if (bodyType is null)
        {
            yield break;
        }

        var url = Url(operation, "1", []);
        foreach (var text in HostileTexts)
        {
            yield return (url, Body(bodyType, t => Hostile(t, text)));
        }

        yield return (url, Body(bodyType, t => WrongType(t)));
        yield return (url, Body(bodyType, _ => null));
        yield return (url, Body(bodyType, _ => JsonNode.Parse(new string('[', 60) + new string(']', 60))));
        yield return (url, Body(bodyType, _ => JsonNode.Parse("{\"n\": 1e1000000}")));
        yield return (url, Body(bodyType, _ => JsonValue.Create(new string('x', 200_000))));
        yield return (url, "{\"unterminated\": ");
        yield return (url, "\"\\udc00 lone surrogate\"");
        yield return (url, "[]");
    }

    /// <summary>One request, <paramref name="body"/> (if any) as JSON; the answer is read whole.</summary>
    private static async Task<HttpResponseMessage> SendAsync(HttpClient client, string method, string url, string? body, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        if (idempotencyKey is not null)
        {
            request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        }

        return await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
    }

    private static string Url(ApiDescription operation, string segment, IEnumerable<(string Name, string Value)> query)
    {
        var path = "/" + System.Text.RegularExpressions.Regex.Replace(operation.RelativePath!, "\\{[^}]+\\}", segment);
        var pairs = query.Select(q => $"{q.Name}={q.Value}").ToList();
        return pairs.Count == 0 ? path : $"{path}?{string.Join('&', pairs)}";
    }

    private static string Body(Type type, Func<Type, JsonNode?> value)
    {
        var body = new JsonObject();
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0))
        {
            body[JsonNamingPolicy.SnakeCaseLower.ConvertName(property.Name)] = value(property.PropertyType);
        }

        return body.ToJsonString();
    }

    private static JsonNode? Hostile(Type type, string text)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (underlying == typeof(string))
        {
            return JsonValue.Create(text);
        }

        if (typeof(JsonNode).IsAssignableFrom(underlying))
        {
            return new JsonObject { ["k"] = text, ["list"] = new JsonArray(text) };
        }

        if (underlying != typeof(string) && typeof(System.Collections.IEnumerable).IsAssignableFrom(underlying))
        {
            return new JsonArray(text);
        }

        return underlying == typeof(bool) ? JsonValue.Create(true) : JsonValue.Create(text);
    }

    private static JsonValue? WrongType(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        return underlying == typeof(string) ? JsonValue.Create(12345) : JsonValue.Create("not a " + underlying.Name);
    }

    private static async Task<IReadOnlyList<string>> QueryTablesAsync(Npgsql.NpgsqlConnection connection)
    {
        await using (connection)
        {
            await using var command = new Npgsql.NpgsqlCommand("""
                SELECT quote_ident(table_name) FROM information_schema.tables
                WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT IN ('schema_migrations', 'comprehensive_user_data_cache')
                ORDER BY 1
                """, connection);
            var tables = new List<string>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                tables.Add(reader.GetString(0));
            }

            return tables;
        }
    }

    private static string? Shorten(string? text) => text is null || text.Length <= 300 ? text : text[..300] + "...";
}
