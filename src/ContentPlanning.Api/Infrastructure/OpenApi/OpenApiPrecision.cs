using System.Text.Json.Nodes;
using ContentPlanning.Api.Features.CalendarEvents;
using ContentPlanning.Api.Features.CalendarJobs;
using ContentPlanning.Api.Features.GenerateCalendar;
using ContentPlanning.Api.Features.Recommendations;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ContentPlanning.Api.Infrastructure.OpenApi;

/// <summary>
/// What the inferred document cannot know, said once for the whole document so generated clients and validating proxies
/// agree with the service:
/// <list type="bullet">
/// <item>request fields that may be null may be left out (the inference marks every constructor parameter required);
/// response fields are always written (nulls included), so every one is required;</item>
/// <item>every problem carries <c>type</c>, <c>status</c> and <c>trace_id</c>;</item>
/// <item>the closed value sets (calendar_type, status, format) as enums;</item>
/// <item>examples from the demo data (db/seed) on every request body and path parameter, so Swagger UI's "Execute" works
/// on a fresh <c>scripts/run.sh</c>;</item>
/// <item>the headers some answers carry (Location, Retry-After, WWW-Authenticate) and the health probes.</item>
/// </list>
/// </summary>
internal static class OpenApiPrecision
{
    private const string DemoUser = "demo-alice";

    private static readonly string[] JobStatuses = [JobStatus.Queued, JobStatus.Running, JobStatus.Completed, JobStatus.Failed, JobStatus.Cancelled];

    /// <summary>Closed value sets by schema and property.</summary>
    private static readonly Dictionary<(string Schema, string Property), string[]> Enums = new()
    {
        [("GenerateCalendarRequest", "calendar_type")] = GenerateCalendar.CalendarTypes,
        [("StartCalendarJobRequest", "calendar_type")] = GenerateCalendar.CalendarTypes,
        [("GenerateCalendarCalendar", "calendar_type")] = GenerateCalendar.CalendarTypes,
        [("GetStrategySummaryCalendarPart", "calendar_type")] = GenerateCalendar.CalendarTypes,
        [("ListCalendarsSummary", "calendar_type")] = GenerateCalendar.CalendarTypes,
        [("CalendarEvent", "status")] = CalendarEvent.Statuses,
        [("UpdateCalendarEventBody", "status")] = CalendarEvent.Statuses,
        [("CreateCalendarEventRequest", "status")] = ["draft", "scheduled"],
        [("Recommendation", "status")] = RecommendationFields.Statuses,
        [("CreateRecommendationRequest", "status")] = RecommendationFields.Statuses,
        [("UpdateRecommendationRequest", "status")] = RecommendationFields.Statuses,
        [("JobView", "status")] = JobStatuses,
    };

    /// <summary>Closed value sets of query parameters, by path and name.</summary>
    private static readonly Dictionary<(string Path, string Parameter), string[]> ParameterEnums = new()
    {
        [("/api/content-planning/recommendations", "status")] = RecommendationFields.Statuses,
        [("/api/content-planning/users/{user_id}/recommendations", "status")] = RecommendationFields.Statuses,
        [("/api/content-planning/calendar-events", "status")] = CalendarEvent.Statuses,
        [("/api/content-planning/strategies/{id}/events", "status")] = CalendarEvent.Statuses,
        [("/api/content-planning/calendars/{id}/export", "format")] = ["ics", "csv"],
    };

    /// <summary>Request bodies that work on the demo data as loaded by <c>scripts/run.sh</c> (demo-alice owns strategies 1 to 3).</summary>
    private static readonly Dictionary<string, string> BodyExamples = new()
    {
        ["warmCache"] = """{"user_ids": ["demo-alice", "demo-bob"]}""",
        ["putUserProfile"] = """{"industry": "technology", "business_size": "smb", "writing_tone": "professional", "content_types": ["blog", "video"], "posting_preferences": {"daily": 1, "weekly": 5, "monthly": 20}, "website_url": "https://alice.example.com"}""",
        ["createStrategy"] = """{"user_id": "demo-alice", "name": "Q3 thought leadership", "industry": "technology", "business_objectives": ["developer trust"], "content_budget": 4000, "team_size": 2, "content_pillars": ["Tutorials", "Case studies"]}""",
        ["updateStrategy"] = """{"name": "Developer trust 2026", "industry": "technology", "business_objectives": ["grow qualified leads", "developer trust"], "content_budget": 12000, "team_size": 4}""",
        ["createRecommendation"] = """{"user_id": "demo-alice", "strategy_id": 1, "recommendation_type": "blog_post", "title": "Tracing a slow request end to end", "priority": "high", "platforms": ["blog", "linkedin"]}""",
        ["updateRecommendation"] = """{"strategy_id": 1, "recommendation_type": "blog_post", "title": "OpenTelemetry in 30 minutes", "priority": "high", "platforms": ["blog", "linkedin"], "status": "accepted"}""",
        ["generateCalendar"] = """{"user_id": "demo-alice", "calendar_type": "weekly", "timezone": "Europe/Paris", "platforms": ["blog", "linkedin"], "pieces_per_day": 2}""",
        ["startCalendarJob"] = """{"user_id": "demo-alice", "calendar_type": "monthly", "timezone": "Europe/Paris"}""",
        ["createGapAnalysis"] = """{"user_id": "demo-alice", "website_url": "https://alice.example.com", "competitor_urls": ["https://rival.example.com"], "target_keywords": ["observability"], "analysis_results": {"content_gaps": ["migration guides"]}}""",
        ["updateGapAnalysis"] = """{"website_url": "https://alice.example.com", "competitor_urls": ["https://rival.example.com"], "target_keywords": ["observability", "sre"]}""",
        ["createCalendarEvent"] = """{"user_id": "demo-alice", "strategy_id": 1, "title": "Release notes walkthrough", "scheduled_at": "2027-03-01T09:00:00Z", "platform": "linkedin", "content_type": "post", "status": "draft"}""",
        ["updateCalendarEvent"] = """{"title": "Release notes walkthrough", "scheduled_at": "2027-03-01T10:00:00Z", "status": "scheduled", "platform": "linkedin", "content_type": "post"}""",
        ["createAnalyticsRecord"] = """{"user_id": "demo-alice", "strategy_id": 1, "platform": "linkedin", "metrics": {"views": 1200, "clicks": 85}, "performance_score": 72.5}""",
    };

    public static Task ApplyAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var schemas = document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
        AddHealth(document, schemas);
        var (requests, responses) = Reachable(document);
        foreach (var (name, item) in schemas)
        {
            if (item is not OpenApiSchema { Properties.Count: > 0 } schema)
            {
                continue;
            }

            if (requests.Contains(name))
            {
                schema.Required = new HashSet<string>(schema.Properties.Where(p => schema.Required?.Contains(p.Key) == true && !AcceptsNull(p.Value)).Select(p => p.Key));
            }
            else if (responses.Contains(name))
            {
                schema.Required = new HashSet<string>(schema.Properties.Keys);
            }

            foreach (var (property, values) in Enums.Where(e => e.Key.Schema == name).Select(e => (e.Key.Property, e.Value)))
            {
                if (schema.Properties.TryGetValue(property, out var target) && target is OpenApiSchema field)
                {
                    field.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)!), .. AcceptsNull(field) ? [null!] : Array.Empty<JsonNode>()];
                }
            }
        }

        DescribeProblems(schemas);
        // Span attributes come from many libraries: a value may be null.
        if (schemas.TryGetValue("SpanRecord", out var span) && span is OpenApiSchema { Properties: { } spanProperties } &&
            spanProperties.TryGetValue("attributes", out var attributes) && attributes is OpenApiSchema { AdditionalProperties: OpenApiSchema value })
        {
            value.Type = JsonSchemaType.String | JsonSchemaType.Null;
        }

        foreach (var (path, item) in document.Paths)
        {
            foreach (var operation in ValuesOf(item.Operations))
            {
                DescribeOperation(path, operation);
            }
        }

        return Task.CompletedTask;
    }

    private static void DescribeOperation(string path, OpenApiOperation operation)
    {
        foreach (var parameter in (operation.Parameters ?? []).OfType<OpenApiParameter>())
        {
            if (parameter.Schema is OpenApiSchema schema && ParameterEnums.TryGetValue((path, parameter.Name!), out var values))
            {
                schema.Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v)!)];
            }

            parameter.Example ??= parameter.Name switch
            {
                "user_id" => JsonValue.Create(DemoUser),
                "id" or "strategy_id" => JsonValue.Create(1),
                "session_id" => JsonValue.Create("5f0c2a57-1a51-4a8e-9d0b-6f3c1e2d7a90"),
                "format" => JsonValue.Create("ics"),
                _ => null,
            };
        }

        if (operation.OperationId is { } id && BodyExamples.TryGetValue(id, out var example) &&
            operation.RequestBody?.Content?.TryGetValue("application/json", out var media) == true)
        {
            media.Example = JsonNode.Parse(example);
        }

        foreach (var (status, response) in (IEnumerable<KeyValuePair<string, IOpenApiResponse>>?)operation.Responses ?? [])
        {
            if (response is not OpenApiResponse answer)
            {
                continue;
            }

            var header = status switch
            {
                "201" or "202" => ("Location", "Where the created resource (or the job's progress) is read."),
                "401" => ("WWW-Authenticate", "Bearer, with error=\"invalid_token\" when a token was sent but not accepted."),
                "429" or "503" => ("Retry-After", "Seconds to wait before trying again."),
                _ => default,
            };
            if (header.Item1 is { } name)
            {
                answer.Headers ??= new Dictionary<string, IOpenApiHeader>();
                answer.Headers.TryAdd(name, new OpenApiHeader
                {
                    Description = header.Item2,
                    Schema = new OpenApiSchema { Type = name == "Retry-After" ? JsonSchemaType.Integer : JsonSchemaType.String },
                });
            }
        }
    }

    /// <summary>Every problem carries these, whatever answered it (problem details service, exception handler, rate limiter).</summary>
    private static void DescribeProblems(IDictionary<string, IOpenApiSchema> schemas)
    {
        foreach (var name in new[] { "ProblemDetails", "HttpValidationProblemDetails" })
        {
            if (schemas.TryGetValue(name, out var item) && item is OpenApiSchema { Properties: { } properties } problem)
            {
                properties["trace_id"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "The W3C trace id of the request: quote it when reporting an error." };
                problem.Required = new HashSet<string>(["type", "status", "trace_id", .. name == "HttpValidationProblemDetails" ? ["errors"] : Array.Empty<string>()]);
                if (properties.TryGetValue("type", out var type) && type is OpenApiSchema typeSchema)
                {
                    typeSchema.Type = JsonSchemaType.String;
                }

                if (properties.TryGetValue("status", out var status) && status is OpenApiSchema statusSchema)
                {
                    statusSchema.Type = JsonSchemaType.Integer;
                }
            }
        }
    }

    /// <summary>The probes, as mapped by HealthEndpoints: one shape, 200 while healthy or degraded, 503 when unhealthy.</summary>
    private static void AddHealth(OpenApiDocument document, IDictionary<string, IOpenApiSchema> schemas)
    {
        schemas["HealthReport"] = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string>(["status", "duration_ms", "checks"]),
            Properties = new Dictionary<string, IOpenApiSchema>
            {
                ["status"] = HealthStatus(),
                ["duration_ms"] = new OpenApiSchema { Type = JsonSchemaType.Number },
                ["checks"] = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    AdditionalProperties = new OpenApiSchema
                    {
                        Type = JsonSchemaType.Object,
                        Required = new HashSet<string>(["status", "description", "data"]),
                        Properties = new Dictionary<string, IOpenApiSchema>
                        {
                            ["status"] = HealthStatus(),
                            ["description"] = new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null },
                            ["data"] = new OpenApiSchema { Type = JsonSchemaType.Object, Description = "What the check reports (migrations, pool, Redis, listener)." },
                        },
                    },
                },
            },
        };

        foreach (var (path, id, summary) in new[]
                 {
                     ("/health/live", "healthLive", "Liveness: the process answers (no dependency is checked)."),
                     ("/health/ready", "healthReady", "Readiness: PostgreSQL reachable and migrated; Redis down is degraded (still 200)."),
                     ("/api/content-planning/health", "apiHealth", "Readiness under the API prefix (the integration plan's name)."),
                     ("/api/content-planning/database/health", "databaseHealth", "The PostgreSQL check alone, with the migration ledger and the connection pool."),
                 })
        {
            var report = new OpenApiMediaType { Schema = new OpenApiSchemaReference("HealthReport", document) };
            var operation = new OpenApiOperation
            {
                OperationId = id,
                Summary = summary,
                Tags = new HashSet<OpenApiTagReference> { new("Health", document) },
                Security = [],
                Responses = new OpenApiResponses
                {
                    ["200"] = new OpenApiResponse { Description = "Healthy or degraded.", Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = report } },
                    ["503"] = new OpenApiResponse { Description = "Unhealthy.", Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = report } },
                },
            };
            document.Paths[path] = new OpenApiPathItem { Operations = new Dictionary<HttpMethod, OpenApiOperation> { [HttpMethod.Get] = operation } };
        }

        document.Tags ??= new HashSet<OpenApiTag>();
        document.Tags.Add(new OpenApiTag { Name = "Health", Description = "Liveness and readiness probes (no token needed)." });
    }

    private static OpenApiSchema HealthStatus() => new()
    {
        Type = JsonSchemaType.String,
        Enum = [JsonValue.Create("healthy")!, JsonValue.Create("degraded")!, JsonValue.Create("unhealthy")!],
    };

    /// <summary>The component schemas a request body reaches, and those only answers reach.</summary>
    private static (HashSet<string> Requests, HashSet<string> Responses) Reachable(OpenApiDocument document)
    {
        var schemas = document.Components?.Schemas ?? new Dictionary<string, IOpenApiSchema>();
        HashSet<string> requests = [], responses = [];
        foreach (var operation in document.Paths.Values.SelectMany(p => ValuesOf(p.Operations)))
        {
            foreach (var media in ValuesOf(operation.RequestBody?.Content))
            {
                Walk(media.Schema, schemas, requests);
            }

            foreach (var media in ValuesOf(operation.Responses).SelectMany(r => ValuesOf(r.Content)))
            {
                Walk(media.Schema, schemas, responses);
            }
        }

        responses.ExceptWith(requests);
        return (requests, responses);
    }

    private static void Walk(IOpenApiSchema? schema, IDictionary<string, IOpenApiSchema> schemas, HashSet<string> seen)
    {
        if (schema is null)
        {
            return;
        }

        if (schema is OpenApiSchemaReference reference)
        {
            var id = reference.Reference.Id;
            if (id is not null && seen.Add(id) && schemas.TryGetValue(id, out var target))
            {
                Walk(target, schemas, seen);
            }

            return;
        }

        foreach (var child in ValuesOf(schema.Properties).Concat(schema.OneOf ?? []).Concat(schema.AnyOf ?? []).Concat(schema.AllOf ?? [])
                     .Append(schema.Items).Append(schema.AdditionalProperties))
        {
            Walk(child, schemas, seen);
        }
    }

    private static IEnumerable<TValue> ValuesOf<TKey, TValue>(IDictionary<TKey, TValue>? dictionary) =>
        (IEnumerable<TValue>?)dictionary?.Values ?? [];

    /// <summary>A property that may be null (or any JSON, null included) may also be left out of a request.</summary>
    private static bool AcceptsNull(IOpenApiSchema schema) =>
        schema.Type is null && schema is not OpenApiSchemaReference && schema.OneOf is null
        || schema.Type?.HasFlag(JsonSchemaType.Null) == true
        || schema.OneOf?.Any(s => s.Type == JsonSchemaType.Null) == true;
}
