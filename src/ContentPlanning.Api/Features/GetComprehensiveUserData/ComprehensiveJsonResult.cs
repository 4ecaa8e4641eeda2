using System.Reflection;
using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// Writes a comprehensive-data answer with its <c>data</c> section serialized once per cached value (<see cref="CachedJson"/>);
/// only <c>cache_info</c> and <c>message</c> are serialized per request. The bytes equal what <c>TypedResults.Ok(response)</c>
/// writes (a test compares them); the OpenAPI answer type stays <see cref="GetComprehensiveUserData.Response"/>.
/// </summary>
internal sealed class ComprehensiveJsonResult(GetComprehensiveUserData.Response response) : IResult, IEndpointMetadataProvider
{
    private static readonly JsonEncodedText StatusName = CachedJson.Name(nameof(GetComprehensiveUserData.Response.Status));
    private static readonly JsonEncodedText DataName = CachedJson.Name(nameof(GetComprehensiveUserData.Response.Data));
    private static readonly JsonEncodedText CacheInfoName = CachedJson.Name(nameof(GetComprehensiveUserData.Response.CacheInfo));
    private static readonly JsonEncodedText MessageName = CachedJson.Name(nameof(GetComprehensiveUserData.Response.Message));

    public GetComprehensiveUserData.Response Response { get; } = response;

    public Task ExecuteAsync(HttpContext httpContext) => CachedJson.WriteOkAsync(httpContext, Response, Write);

    /// <summary>The answer's JSON, property by property in the record's order, with the cached <c>data</c> bytes.</summary>
    internal static void Write(Utf8JsonWriter writer, GetComprehensiveUserData.Response response, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteString(StatusName, response.Status);
        writer.WriteCached(DataName, response.Data, options);
        writer.WritePropertyName(CacheInfoName);
        JsonSerializer.Serialize(writer, response.CacheInfo, options);
        writer.WriteString(MessageName, response.Message);
        writer.WriteEndObject();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(GetComprehensiveUserData.Response), ["application/json"]));
}
