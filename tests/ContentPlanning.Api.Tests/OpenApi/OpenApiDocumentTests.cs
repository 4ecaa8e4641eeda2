using System.Text.Json;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.OpenApi;

/// <summary>The OpenAPI document is the contract: committed, served unchanged, and saying exactly one thing per type.</summary>
public sealed class OpenApiDocumentTests
{
    private const string Regenerate = "UPDATE_OPENAPI=1 scripts/test.sh";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static async Task<JsonObject> ServedAsync()
    {
        using var client = Testing.Factory.CreateAnonymousClient();
        return JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!.AsObject();
    }

    [Test]
    public async Task TheServedDocumentIsTheCommittedOne()
    {
        var served = (await ServedAsync()).ToJsonString(Indented) + "\n";
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
}
