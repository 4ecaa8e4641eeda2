using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ContentPlanning.Api.Infrastructure.OpenApi;

/// <summary>
/// Makes the OpenAPI document say what the service does, by convention, in one place:
/// <list type="bullet">
/// <item>schema names from the slice and the type: <c>CreateStrategy.Command</c> is <c>CreateStrategyRequest</c>,
/// <c>ActivateStrategy.Response</c> is <c>ActivateStrategyResponse</c> (nested records share short names);</item>
/// <item>an operationId for every operation: the endpoint's name when it has one (<c>WithName</c>), else the use case
/// class that declares the endpoint, in camelCase (<c>createStrategy</c>);</item>
/// <item>JSON-valued fields as "any JSON" (a null included), integers and numbers as what the service writes (it also
/// reads them from strings, which the document does not advertise);</item>
/// <item>every error answer as problem details.</item>
/// </list>
/// </summary>
public static class OpenApiContract
{
    public const string DocumentName = "v1";

    private const string FeatureNamespace = nameof(ContentPlanning) + "." + nameof(ContentPlanning.Api) + "." + nameof(ContentPlanning.Api.Features);

    public static IServiceCollection AddOpenApiContract(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            options.CreateSchemaReferenceId = SchemaName;
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info.Title = "Content Planning API";
                document.Info.Description = "Content strategies, comprehensive user data and generated content calendars. Every error is a problem details answer (RFC 9457).";
                // No servers: the document is the same wherever it is fetched from (and committed); clients set their base URL.
                document.Servers = [];
                return Task.CompletedTask;
            });
            options.AddSchemaTransformer(DescribeWhatIsWritten);
            options.AddOperationTransformer(NameAndDescribeErrors);
            options.AddDocumentTransformer(OpenApiPrecision.ApplyAsync);
        });

    /// <summary>The schema name of a type, or null to inline it.</summary>
    internal static string? SchemaName(JsonTypeInfo type)
    {
        if (IsAnyJson(type.Type))
        {
            return null;
        }

        var name = OpenApiOptions.CreateDefaultSchemaReferenceId(type);
        if (name is null || type.Type.DeclaringType is not { IsAbstract: true, IsSealed: true } slice || type.Type.IsGenericType)
        {
            return name;
        }

        // A record nested in a use case class (STYLE: one static class per use case).
        return type.Type.Name switch
        {
            "Command" => slice.Name + "Request",
            "Query" => slice.Name + "Query",
            "Response" => slice.Name + "Response",
            _ => slice.Name + type.Type.Name,
        };
    }

    private static bool IsAnyJson(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? type) is var t && (typeof(JsonNode).IsAssignableFrom(t) || t == typeof(JsonElement) || t == typeof(JsonDocument));

    private static Task DescribeWhatIsWritten(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        var type = context.JsonPropertyInfo?.PropertyType ?? context.JsonTypeInfo.Type;
        if (IsAnyJson(type))
        {
            // Any JSON value, null included: an empty schema (no oneOf of "anything" and null, which a null matches twice).
            schema.Type = null;
            schema.OneOf = null;
            schema.AnyOf = null;
            schema.Properties = null;
            schema.AdditionalProperties = null;
            schema.Format = null;
            schema.Description ??= "Any JSON value.";
            return Task.CompletedTask;
        }

        if (schema.Type is { } types && (types.HasFlag(JsonSchemaType.Integer) || types.HasFlag(JsonSchemaType.Number)))
        {
            // The JSON options read numbers from strings too (hence the string type and its pattern); the service writes numbers.
            schema.Type = types & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        // A nullable property whose type is a named schema comes as oneOf [null, $ref] or [$ref, null]; that is fine
        // for a schema that rejects null itself, which ours do.
        return Task.CompletedTask;
    }

    private static Task NameAndDescribeErrors(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Description.ActionDescriptor.EndpointMetadata;
        operation.OperationId ??= metadata.OfType<IEndpointNameMetadata>().LastOrDefault()?.EndpointName
            ?? UseCaseName(metadata.OfType<MethodInfo>().LastOrDefault());

        // Every error answer is a problem: say so where an answer was declared without a body (401, 403, ...), and for
        // the errors any route may meet without declaring them (a body over the size limit, a wrong media type, ...).
        operation.Responses ??= new OpenApiResponses();
        operation.Responses.TryAdd("default", new OpenApiResponse
        {
            Description = "Any other error, as problem details (RFC 9457).",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
            },
        });
        if (operation.Responses is { } responses)
        {
            foreach (var media in responses.Values.SelectMany(r => r.Content ?? new Dictionary<string, OpenApiMediaType>())
                         .Where(m => m.Key.StartsWith("text/", StringComparison.Ordinal) && m.Key != "text/event-stream"))
            {
                // A file (the calendar exports): bytes for a client, not a JSON string.
                media.Value.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" };
            }

            foreach (var (status, response) in responses)
            {
                if (status.Length == 3 && status[0] is '4' or '5' && response is OpenApiResponse { Content: null or { Count: 0 } } bare)
                {
                    bare.Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
                    };
                }
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The use case class declaring the endpoint's handler (lambdas live in compiler classes nested in it), camelCased.</summary>
    private static string? UseCaseName(MethodInfo? handler)
    {
        for (var type = handler?.DeclaringType; type is not null; type = type.DeclaringType)
        {
            if (type is { IsAbstract: true, IsSealed: true } && type.Namespace?.StartsWith(FeatureNamespace, StringComparison.Ordinal) == true)
            {
                return JsonNamingPolicy.CamelCase.ConvertName(type.Name);
            }
        }

        return null;
    }
}
