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
            // The test host's fault-injection routes answer 500 on purpose (they are how other tests provoke errors);
            // that the sweep reports them is the proof it would report a real route that does.
            .Where(d => !d.RelativePath!.StartsWith("api/content-planning/test/", StringComparison.Ordinal))
            .ToList();
        Assert.That(operations, Has.Count.GreaterThan(30), "the sweep sees the API's operations");

        var failures = new List<string>();
        var sent = 0;
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
                using var response = await client.SendAsync(request);
                sent++;
                var status = (int)response.StatusCode;
                var type = response.Content.Headers.ContentType?.MediaType;
                if (status >= 500 || (status >= 400 && type != "application/problem+json"))
                {
                    failures.Add($"{operation.HttpMethod} {url} {Shorten(body)} -> {status} {type}: {Shorten(await response.Content.ReadAsStringAsync())}");
                }
            }
        }

        TestContext.Out.WriteLine($"hostile-input sweep: {operations.Count} operations, {sent} requests, {failures.Count} failures");
        Assert.That(failures, Is.Empty);
        using var ready = await client.GetAsync("/health/ready");
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK), "healthy after the sweep");
    }

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

    private static string? Shorten(string? text) => text is null || text.Length <= 300 ? text : text[..300] + "...";
}
