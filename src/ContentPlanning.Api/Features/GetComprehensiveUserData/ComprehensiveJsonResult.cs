using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// Writes a comprehensive-data answer with its <c>data</c> section serialized once per cached value, not once per request:
/// the cache tiers hand out the same immutable <see cref="ComprehensiveData"/> instance until it changes, so its UTF-8
/// JSON is kept beside it (a weak table: it goes when the entry goes) and copied into each answer. Only the small,
/// per-request parts (<c>cache_info</c>, <c>message</c>) are serialized per request. The bytes equal what
/// <c>TypedResults.Ok(response)</c> writes (a test compares them); the OpenAPI answer type stays <see cref="GetComprehensiveUserData.Response"/>.
/// </summary>
internal sealed class ComprehensiveJsonResult(GetComprehensiveUserData.Response response) : IResult, IEndpointMetadataProvider
{
    private static readonly ConditionalWeakTable<ComprehensiveData, byte[]> DataJson = new();

    // The API's naming policy (Infrastructure/Http: snake_case), encoded once.
    private static readonly JsonEncodedText StatusName = Encode(nameof(GetComprehensiveUserData.Response.Status));
    private static readonly JsonEncodedText DataName = Encode(nameof(GetComprehensiveUserData.Response.Data));
    private static readonly JsonEncodedText CacheInfoName = Encode(nameof(GetComprehensiveUserData.Response.CacheInfo));
    private static readonly JsonEncodedText MessageName = Encode(nameof(GetComprehensiveUserData.Response.Message));

    public GetComprehensiveUserData.Response Response { get; } = response;

    public Task ExecuteAsync(HttpContext httpContext)
    {
        var options = httpContext.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        using var writer = new Utf8JsonWriter(httpContext.Response.BodyWriter);
        Write(writer, Response, options);
        writer.Flush();
        return Task.CompletedTask;
    }

    /// <summary>The answer's JSON, property by property in the record's order, with the cached <c>data</c> bytes.</summary>
    internal static void Write(Utf8JsonWriter writer, GetComprehensiveUserData.Response response, JsonSerializerOptions options)
    {
        var data = DataJson.GetValue(response.Data, d => JsonSerializer.SerializeToUtf8Bytes(d, options));
        writer.WriteStartObject();
        writer.WriteString(StatusName, response.Status);
        writer.WritePropertyName(DataName);
        writer.WriteRawValue(data, skipInputValidation: true);
        writer.WritePropertyName(CacheInfoName);
        JsonSerializer.Serialize(writer, response.CacheInfo, options);
        writer.WriteString(MessageName, response.Message);
        writer.WriteEndObject();
    }

    private static JsonEncodedText Encode(string name) => JsonEncodedText.Encode(JsonNamingPolicy.SnakeCaseLower.ConvertName(name));

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(GetComprehensiveUserData.Response), ["application/json"]));
}
