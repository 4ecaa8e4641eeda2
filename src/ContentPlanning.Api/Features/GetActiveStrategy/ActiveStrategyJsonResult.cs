using System.Reflection;
using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Http;
using Microsoft.AspNetCore.Http.Metadata;

namespace ContentPlanning.Api.Features.GetActiveStrategy;

/// <summary>
/// Writes an active-strategy answer with its <c>strategy</c> and <c>activation</c> serialized once per cached value
/// (<see cref="CachedJson"/>); only <c>cache_info</c> is serialized per request. The bytes equal what
/// <c>TypedResults.Ok(response)</c> writes (a test compares them); the OpenAPI answer type stays <see cref="GetActiveStrategy.Response"/>.
/// </summary>
internal sealed class ActiveStrategyJsonResult(GetActiveStrategy.Response response) : IResult, IEndpointMetadataProvider
{
    private static readonly JsonEncodedText StrategyName = CachedJson.Name(nameof(GetActiveStrategy.Response.Strategy));
    private static readonly JsonEncodedText ResolutionName = CachedJson.Name(nameof(GetActiveStrategy.Response.Resolution));
    private static readonly JsonEncodedText ActivationName = CachedJson.Name(nameof(GetActiveStrategy.Response.Activation));
    private static readonly JsonEncodedText CacheInfoName = CachedJson.Name(nameof(GetActiveStrategy.Response.CacheInfo));

    public GetActiveStrategy.Response Response { get; } = response;

    public Task ExecuteAsync(HttpContext httpContext) => CachedJson.WriteOkAsync(httpContext, Response, Write);

    /// <summary>The answer's JSON, property by property in the record's order, with the cached value's bytes.</summary>
    internal static void Write(Utf8JsonWriter writer, GetActiveStrategy.Response response, JsonSerializerOptions options)
    {
        writer.WriteStartObject();
        writer.WriteCached(StrategyName, response.Strategy, options);
        writer.WriteString(ResolutionName, response.Resolution);
        writer.WriteCached(ActivationName, response.Activation, options);
        writer.WritePropertyName(CacheInfoName);
        JsonSerializer.Serialize(writer, response.CacheInfo, options);
        writer.WriteEndObject();
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(GetActiveStrategy.Response), ["application/json"]));
}
