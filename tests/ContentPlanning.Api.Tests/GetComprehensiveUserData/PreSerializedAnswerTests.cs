using System.Text;
using System.Text.Json;
using ContentPlanning.Api.Features.GetComprehensiveUserData;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

/// <summary>The answer written with the cached <c>data</c> bytes is byte for byte what the serializer writes for the record.</summary>
public sealed class PreSerializedAnswerTests : DatabaseTest
{
    [Test]
    public async Task TheFastWriterProducesTheSerializersBytesForEveryTier()
    {
        await SeedCompleteUserAsync("bytes-user");
        var options = Testing.Factory.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

        foreach (var _ in new[] { "computed", "memory", "memory again" })
        {
            var response = (await Testing.SendAsync(new Features.GetComprehensiveUserData.GetComprehensiveUserData.Query("bytes-user", null, false)))!;
            var expected = JsonSerializer.Serialize(response, options);
            using var buffer = new MemoryStream();
            using (var writer = new Utf8JsonWriter(buffer))
            {
                ComprehensiveJsonResult.Write(writer, response, options);
            }

            Assert.That(Encoding.UTF8.GetString(buffer.ToArray()), Is.EqualTo(expected));
        }
    }

    [Test]
    public async Task AnHttpAnswerIsTheSerializedRecord()
    {
        using var client = Testing.CreateClient();
        await SeedCompleteUserAsync("bytes-http");
        await GetAsync(client, "bytes-http");

        using var response = await client.GetAsync(Url("bytes-http"));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/json"));
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(body.Length), "sent with its length, not chunked");
        var answer = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        Assert.That(answer["status"]!.GetValue<string>(), Is.EqualTo("success"));
        Assert.That(answer["data"]!["user_id"]!.GetValue<string>(), Is.EqualTo("bytes-http"));
        Assert.That(answer["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo("memory"));
        Assert.That(answer["message"]!.GetValue<string>(), Does.Contain("HIT"));
    }
}
