using System.Buffers;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Http;

/// <summary>
/// JSON answers built around values the cache hands out. A cache tier returns the same immutable instance until the value
/// changes, so its UTF-8 JSON is serialized once and kept beside it (a weak table: it goes when the cached value goes);
/// each answer copies those bytes and serializes only its small per-request parts (<c>cache_info</c>). The answer is
/// assembled in a buffer the thread reuses and sent with a <c>Content-Length</c>: one write, no chunked framing.
/// </summary>
public static class CachedJson
{
    // The largest answer whose buffer a thread keeps for the next one; a larger one is built in a buffer dropped after use.
    private const int KeptBufferBytes = 256 * 1024;

    private static readonly ConditionalWeakTable<object, byte[]> Serialized = new();

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>The value's JSON, serialized the first time any answer asks for it.</summary>
    public static byte[] BytesOf<T>(T value, JsonSerializerOptions options)
        where T : class
    {
        if (!Serialized.TryGetValue(value, out var bytes))
        {
            // Two requests racing here serialize the same immutable value to the same bytes: either copy may stay.
            bytes = JsonSerializer.SerializeToUtf8Bytes(value, options);
            Serialized.AddOrUpdate(value, bytes);
        }

        return bytes;
    }

    /// <summary>Writes <paramref name="name"/> and the value's cached JSON (or <c>null</c>).</summary>
    public static void WriteCached<T>(this Utf8JsonWriter writer, JsonEncodedText name, T? value, JsonSerializerOptions options)
        where T : class
    {
        writer.WritePropertyName(name);
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteRawValue(BytesOf(value, options), skipInputValidation: true);
        }
    }

    /// <summary>A property name as the API's naming policy spells it (snake_case), encoded once.</summary>
    public static JsonEncodedText Name(string propertyName) =>
        JsonEncodedText.Encode(JsonNamingPolicy.SnakeCaseLower.ConvertName(propertyName));

    /// <summary>Answers 200 with the JSON <paramref name="write"/> produces, sent with its length in one write.</summary>
    public static Task WriteOkAsync<TAnswer>(HttpContext context, TAnswer answer, Action<Utf8JsonWriter, TAnswer, JsonSerializerOptions> write)
    {
        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(16 * 1024);
        var writer = t_writer ??= new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = options.Encoder, SkipValidation = true });
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        try
        {
            write(writer, answer, options);
            writer.Flush();
            var response = context.Response;
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "application/json; charset=utf-8";
            response.ContentLength = buffer.WrittenCount;
            response.BodyWriter.Write(buffer.WrittenSpan);
        }
        finally
        {
            if (buffer.Capacity > KeptBufferBytes)
            {
                t_buffer = null;
                t_writer = null;
            }
        }

        // Kestrel sends what was written when the request completes (headers and body together).
        return Task.CompletedTask;
    }
}

/// <summary>
/// A 200 answer written by <see cref="CachedJson.WriteOkAsync"/> with the slice's writer; OpenAPI sees
/// <typeparamref name="TResponse"/> as the answer type, as it would for <c>TypedResults.Ok(response)</c>.
/// </summary>
public sealed class CachedJsonResult<TResponse>(TResponse response, Action<Utf8JsonWriter, TResponse, JsonSerializerOptions> write)
    : IResult, IEndpointMetadataProvider
{
    public TResponse Response { get; } = response;

    public Task ExecuteAsync(HttpContext httpContext) => CachedJson.WriteOkAsync(httpContext, Response, write);

    // Static by IEndpointMetadataProvider's contract, on a generic type as ASP.NET Core's own Ok<TValue> is.
#pragma warning disable CA1000
    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder) =>
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(TResponse), ["application/json"]));
#pragma warning restore CA1000
}
