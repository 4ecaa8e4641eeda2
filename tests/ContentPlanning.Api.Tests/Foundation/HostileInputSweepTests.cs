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
                using var request = new HttpRequestMessage(new HttpMethod(operation.HttpMethod!), url);
                if (body is not null)
                {
                    request.Content = new StringContent(body, Encoding.UTF8, "application/json");
                }

                request.Headers.TryAddWithoutValidation("Idempotency-Key", "sweep\u00e9");
                var write = operation.HttpMethod is not ("GET" or "HEAD");
                var before = write ? await FingerprintAsync() : null;
                using var response = await client.SendAsync(request);
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

    private static JsonNode? WrongType(Type type)
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
