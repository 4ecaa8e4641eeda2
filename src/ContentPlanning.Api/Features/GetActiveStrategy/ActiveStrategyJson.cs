using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Http;

namespace ContentPlanning.Api.Features.GetActiveStrategy;

/// <summary>
/// Writes an active-strategy answer with its <c>strategy</c> and <c>activation</c> serialized once per cached value
/// (<see cref="CachedJson"/>); only <c>cache_info</c> is serialized per request. The bytes equal what
/// <c>TypedResults.Ok(response)</c> writes (a test compares them); the endpoint answers <c>CachedJsonResult</c>, whose OpenAPI answer type stays <see cref="GetActiveStrategy.Response"/>.
/// </summary>
internal static class ActiveStrategyJson
{
    private static readonly JsonEncodedText StrategyName = CachedJson.Name(nameof(GetActiveStrategy.Response.Strategy));
    private static readonly JsonEncodedText ResolutionName = CachedJson.Name(nameof(GetActiveStrategy.Response.Resolution));
    private static readonly JsonEncodedText ActivationName = CachedJson.Name(nameof(GetActiveStrategy.Response.Activation));
    private static readonly JsonEncodedText CacheInfoName = CachedJson.Name(nameof(GetActiveStrategy.Response.CacheInfo));

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
}
