using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using NJsonSchema;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>
/// Checks real answers against the committed OpenAPI document (<c>openapi/content-planning.v1.json</c>): the status must
/// be documented for the operation (errors may fall under <c>default</c>), the media type listed, and the body valid
/// against the schema given for it (NJsonSchema). Requests to paths outside the document (health, metrics, the test-only
/// routes, which are excluded from the document) are not checked.
/// </summary>
public static partial class ContractCheck
{
    public static readonly string DocumentPath = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../openapi/content-planning.v1.json"));

    // Null while the document is missing (TheServedDocumentIsTheCommittedOne fails then, saying how to write it).
    private static readonly Lazy<(JsonObject Document, List<(Regex Path, string Template)> Paths)?> Contract = new(Load);

    private static readonly ConcurrentDictionary<string, JsonSchema> Schemas = new();

    /// <summary>Operations (method + template) answered at least once, and those answered in conformance each time.</summary>
    public static ConcurrentDictionary<string, bool> Seen { get; } = new();

    /// <summary>Null when the answer conforms (or lies outside the document); else what is wrong.</summary>
    public static async Task<string?> CheckAsync(HttpMethod method, string path, HttpResponseMessage response)
    {
        if (Contract.Value is not var (document, paths))
        {
            return null;
        }

        var template = paths.Where(p => p.Path.IsMatch(path)).OrderBy(p => p.Template.Count(c => c == '{')).Select(p => p.Template).FirstOrDefault();
        if (template is null || document["paths"]![template]![method.Method.ToLowerInvariant()] is not JsonObject operation)
        {
            return null;
        }

        var key = $"{method.Method} {template}";
        var problem = await CheckOperationAsync(operation, response);
        Seen.AddOrUpdate(key, problem is null, (_, ok) => ok && problem is null);
        return problem is null ? null : $"{key} answered {(int)response.StatusCode}: {problem}";
    }

    private static async Task<string?> CheckOperationAsync(JsonObject operation, HttpResponseMessage response)
    {
        var status = ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var responses = operation["responses"]!.AsObject();
        var documented = responses[status] ?? (status[0] is '4' or '5' ? responses["default"] : null);
        if (documented is null)
        {
            return $"status {status} is not documented (documented: {string.Join(", ", responses.Select(r => r.Key))})";
        }

        var body = response.Content is null ? "" : await response.Content.ReadAsStringAsync();
        if (documented["content"] is not JsonObject content || content.Count == 0)
        {
            return body.Length == 0 ? null : "a body where none is documented";
        }

        var mediaType = response.Content?.Headers.ContentType?.MediaType;
        if (mediaType is null || content[mediaType] is not { } media)
        {
            return body.Length == 0 && status == "204" ? null : $"media type {mediaType ?? "(none)"} is not documented (documented: {string.Join(", ", content.Select(c => c.Key))})";
        }

        if (media["schema"] is not JsonObject schema || !mediaType.Contains("json", StringComparison.Ordinal))
        {
            return null;
        }

        var validator = Schemas.GetOrAdd(schema.ToJsonString(), static (json, doc) =>
        {
            // The response's schema with the document's schemas beside it as JSON Schema definitions, so its $refs resolve.
            // (allOf, not the schema itself: beside a root $ref, draft-7 ignores every other keyword, definitions included.)
            var wrapper = new JsonObject
            {
                ["allOf"] = new JsonArray(JsonNode.Parse(json)),
                ["definitions"] = doc["components"]!["schemas"]!.DeepClone(),
            };
            return JsonSchema.FromJsonAsync(wrapper.ToJsonString().Replace("#/components/schemas/", "#/definitions/", StringComparison.Ordinal))
                .GetAwaiter().GetResult();
        }, Contract.Value!.Value.Document);
        var errors = validator.Validate(AsDoubles(body));
        return errors.Count == 0 ? null : string.Join("; ", Flatten(errors).Take(5).Select(e => $"{e.Path}: {e.Kind}")) + $" in {Truncate(body)}";
    }

    /// <summary>
    /// The body as NJsonSchema reads it (dates left as strings), except that an integer past Int64 is the double a client
    /// reads: PostgreSQL writes a stored jsonb 1.7e308 out in full digits, Newtonsoft reads those as a BigInteger, and
    /// NJsonSchema's number check cannot convert one.
    /// </summary>
    private static Newtonsoft.Json.Linq.JToken AsDoubles(string body)
    {
        using var reader = new Newtonsoft.Json.JsonTextReader(new StringReader(body)) { DateParseHandling = Newtonsoft.Json.DateParseHandling.None };
        var token = Newtonsoft.Json.Linq.JToken.ReadFrom(reader);
        var values = token is Newtonsoft.Json.Linq.JContainer container ? container.DescendantsAndSelf() : [token];
        foreach (var value in values.OfType<Newtonsoft.Json.Linq.JValue>().Where(v => v.Value is System.Numerics.BigInteger).ToList())
        {
            value.Value = (double)(System.Numerics.BigInteger)value.Value!;
        }

        return token;
    }

    /// <summary>The innermost errors (an invalid array item or property holds the reasons in its child errors).</summary>
    private static IEnumerable<NJsonSchema.Validation.ValidationError> Flatten(IEnumerable<NJsonSchema.Validation.ValidationError> errors) =>
        errors.SelectMany(e => e is NJsonSchema.Validation.ChildSchemaValidationError child && child.Errors.Count > 0
            ? Flatten(child.Errors.SelectMany(x => x.Value))
            : [e]);

    private static string Truncate(string body) => body.Length <= 400 ? body : body[..400] + "...";

    private static (JsonObject, List<(Regex, string)>)? Load()
    {
        if (!File.Exists(DocumentPath))
        {
            return null;
        }

        var document = JsonNode.Parse(File.ReadAllText(DocumentPath))!.AsObject();
        var paths = document["paths"]!.AsObject()
            .Select(p => (new Regex("^" + Parameter().Replace(Regex.Escape(p.Key).Replace(@"\{", "{", StringComparison.Ordinal), "[^/]+") + "$"), p.Key))
            .ToList();
        return (document, paths);
    }

    [GeneratedRegex(@"\{[^}]+\}")]
    private static partial Regex Parameter();

    /// <summary>In every client the tests create: fails the call (and so the test) on an answer that breaks the contract.</summary>
    public sealed class Handler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (response.Content.Headers.ContentType?.MediaType == "text/event-stream")
            {
                return response; // a stream is read by the test; its status and media type are checked below
            }

            await response.Content.LoadIntoBufferAsync(cancellationToken);
            if (await CheckAsync(request.Method, request.RequestUri!.AbsolutePath, response) is { } violation)
            {
                throw new ContractViolationException(violation);
            }

            return response;
        }
    }
}

/// <summary>An answer that does not match the OpenAPI document.</summary>
public sealed class ContractViolationException(string message) : Exception(message);
