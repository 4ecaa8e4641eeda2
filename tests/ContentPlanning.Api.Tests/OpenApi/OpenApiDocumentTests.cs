using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.OpenApi;

/// <summary>The OpenAPI document is the contract: committed, served unchanged, and saying exactly one thing per type.</summary>
public sealed class OpenApiDocumentTests
{
    private const string Regenerate = "UPDATE_OPENAPI=1 scripts/test.sh";

    private static async Task<JsonObject> ServedAsync()
    {
        using var client = Testing.Factory.CreateAnonymousClient();
        return JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!.AsObject();
    }

    [Test]
    public async Task TheServedDocumentIsTheCommittedOne()
    {
        // Byte for byte: what a client downloads is the file in the repository (no re-serialization, no escapes).
        using var client = Testing.Factory.CreateAnonymousClient();
        var served = await client.GetStringAsync("/openapi/v1.json");
        if (Environment.GetEnvironmentVariable("UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(ContractCheck.DocumentPath, served);
            TestContext.Progress.WriteLine($"Wrote {ContractCheck.DocumentPath}");
        }

        Assert.That(File.Exists(ContractCheck.DocumentPath), $"{ContractCheck.DocumentPath} is missing; write it with: {Regenerate}");
        var committed = await File.ReadAllTextAsync(ContractCheck.DocumentPath);
        if (committed != served)
        {
            var copy = Path.Combine(Path.GetTempPath(), "content-planning.v1.served.json");
            await File.WriteAllTextAsync(copy, served);
            var line = committed.Split('\n').Zip(served.Split('\n')).Select((pair, i) => (pair, i)).FirstOrDefault(x => x.pair.First != x.pair.Second);
            Assert.Fail($"The served OpenAPI document differs from {ContractCheck.DocumentPath} (first at line {line.i + 1}: " +
                        $"committed '{line.pair.First?.Trim()}', served '{line.pair.Second?.Trim()}'). The served one is in {copy}. " +
                        $"If the change is intended, regenerate it with: {Regenerate}, and review the diff.");
        }
    }

    [Test]
    public async Task EveryOperationHasAUniqueReadableOperationId()
    {
        var ids = (await ServedAsync())["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Route: $"{o.Key.ToUpperInvariant()} {p.Key}", Id: o.Value!["operationId"]?.GetValue<string>())))
            .ToList();
        Assert.Multiple(() =>
        {
            Assert.That(ids.Where(x => x.Id is null).Select(x => x.Route), Is.Empty, "operations without an operationId");
            Assert.That(ids.GroupBy(x => x.Id).Where(g => g.Count() > 1).Select(g => g.Key), Is.Empty, "operationIds used twice");
            Assert.That(ids.Where(x => x.Id is not null && !System.Text.RegularExpressions.Regex.IsMatch(x.Id, "^[a-z][A-Za-z]+$")).Select(x => x.Id),
                Is.Empty, "operationIds not in camelCase");
            Assert.That(ids.Select(x => x.Id), Does.Contain("createStrategy").And.Contain("getActiveStrategy").And.Contain("startCalendarJob"));
        });
    }

    [Test]
    public async Task SchemasSayWhatIsSent()
    {
        var document = await ServedAsync();
        var schemas = document["components"]!["schemas"]!.AsObject();
        var text = document.ToJsonString();
        Assert.Multiple(() =>
        {
            Assert.That(schemas.Select(s => s.Key), Has.None.AnyOf("Command", "Query", "Response", "Outcome", "JsonNode", "JsonElement"),
                "every schema has a unique, readable name");
            Assert.That(schemas.Select(s => s.Key), Does.Contain("CreateStrategyRequest").And.Contain("ActivateStrategyResponse").And.Contain("GetComprehensiveUserDataResponse"));
            Assert.That(text, Does.Not.Contain("\"pattern\":\"^-?(?:0|[1-9]\\\\d*)$\""), "integers are documented as integers, not as strings with a pattern");
            Assert.That(schemas["Strategy"]!["properties"]!["id"]!["type"]!.ToJsonString(), Is.EqualTo("\"integer\""));
            Assert.That(schemas["Strategy"]!["properties"]!["business_objectives"]!.AsObject().ContainsKey("oneOf"), Is.False,
                "a JSON-valued field is 'any JSON', which a null satisfies once");
        });

        var createStrategy = document["paths"]!["/api/content-planning/strategies"]!["post"]!;
        Assert.That(createStrategy["requestBody"]!["content"]!["application/json"]!["schema"]!["$ref"]!.GetValue<string>(),
            Is.EqualTo("#/components/schemas/CreateStrategyRequest"));
    }

    [Test]
    public async Task TheDocumentSaysWhatGeneratedClientsNeed()
    {
        var document = await ServedAsync();
        var schemas = document["components"]!["schemas"]!.AsObject();
        string[] Required(string schema) => schemas[schema]!["required"]?.AsArray().Select(r => r!.GetValue<string>()).ToArray() ?? [];
        Assert.Multiple(() =>
        {
            // Optional request fields are optional; what must be sent stays required.
            Assert.That(Required("GenerateCalendarRequest"), Is.EqualTo(new[] { "calendar_type" }));
            Assert.That(Required("StartCalendarJobRequest"), Is.EqualTo(new[] { "calendar_type" }));
            Assert.That(Required("CreateCalendarEventRequest"), Is.EquivalentTo(new[] { "title", "scheduled_at" }));
            Assert.That(Required("UpdateCalendarEventBody"), Is.EquivalentTo(new[] { "title", "scheduled_at", "status" }));
            // Always-present answer fields are required.
            foreach (var schema in new[] { "Strategy", "CalendarEvent", "UserProfile", "GapAnalysis", "Recommendation", "AnalyticsRecord" })
            {
                Assert.That(Required(schema), Is.EquivalentTo(schemas[schema]!["properties"]!.AsObject().Select(p => p.Key)), schema);
            }

            Assert.That(Required("ProblemDetails"), Does.Contain("trace_id").And.Contain("type").And.Contain("status"));
            Assert.That(schemas["ProblemDetails"]!["properties"]!["trace_id"], Is.Not.Null);
            Assert.That(schemas["GenerateCalendarRequest"]!["properties"]!["calendar_type"]!["enum"]!.ToJsonString(), Is.EqualTo("""["weekly","monthly","quarterly","yearly"]"""));
            Assert.That(schemas["CalendarEvent"]!["properties"]!["status"]!["enum"], Is.Not.Null);
            Assert.That(schemas["JobView"]!["properties"]!["status"]!["enum"], Is.Not.Null);
        });

        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Route: $"{o.Key.ToUpperInvariant()} {p.Key}", Operation: o.Value!.AsObject())))
            .ToList();
        Assert.Multiple(() =>
        {
            foreach (var (route, operation) in operations)
            {
                if (operation["requestBody"]?["content"]?["application/json"] is { } body)
                {
                    Assert.That(body["example"], Is.Not.Null, $"{route}: a request body example");
                }

                foreach (var parameter in operation["parameters"]?.AsArray() ?? [])
                {
                    if (parameter!["in"]!.GetValue<string>() == "path")
                    {
                        Assert.That(parameter["example"], Is.Not.Null, $"{route}: an example for {parameter["name"]}");
                    }
                }

                var responses = operation["responses"]!.AsObject();
                foreach (var (status, header) in new[] { ("201", "Location"), ("401", "WWW-Authenticate"), ("429", "Retry-After"), ("503", "Retry-After") })
                {
                    if (responses[status] is { } response)
                    {
                        Assert.That(response["headers"]?[header], Is.Not.Null, $"{route} {status}: the {header} header");
                    }
                }
            }

            Assert.That(operations.Select(o => o.Route), Does.Contain("GET /health/ready").And.Contain("GET /health/live"));
            var export = document["paths"]!["/api/content-planning/calendars/{id}/export"]!["get"]!["parameters"]!.AsArray().Single(p => p!["name"]!.GetValue<string>() == "format")!;
            Assert.That(export["schema"]!["enum"]!.ToJsonString(), Is.EqualTo("""["ics","csv"]"""));
        });
    }
}
