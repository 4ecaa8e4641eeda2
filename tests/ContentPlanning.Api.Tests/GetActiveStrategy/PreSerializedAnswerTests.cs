using System.Text;
using System.Text.Json;
using ContentPlanning.Api.Features.GetActiveStrategy;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.GetActiveStrategy;

/// <summary>The answer written with the cached strategy bytes is byte for byte what the serializer writes for the record.</summary>
public sealed class PreSerializedAnswerTests : DatabaseTest
{
    [Test]
    public async Task TheFastWriterProducesTheSerializersBytesWithAndWithoutAnActivation()
    {
        using var client = Testing.CreateClient();
        var options = Testing.Factory.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        var id = await CreateIdAsync(client, "bytes-user", "Bytes \"quoted\" <tag> é 😀");

        foreach (var activate in new[] { false, true })
        {
            if (activate)
            {
                await ActivateAsync(client, id);
            }

            foreach (var tier in new[] { "database", "memory", "memory again" })
            {
                var response = (await Testing.SendAsync(new Features.GetActiveStrategy.GetActiveStrategy.Query("bytes-user", false)))!;
                Assert.That(response.Activation is not null, Is.EqualTo(activate), tier);
                var expected = JsonSerializer.Serialize(response, options);
                using var buffer = new MemoryStream();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    ActiveStrategyJsonResult.Write(writer, response, options);
                }

                Assert.That(Encoding.UTF8.GetString(buffer.ToArray()), Is.EqualTo(expected), $"{tier}, activated: {activate}");
            }
        }
    }

    [Test]
    public async Task AnHttpAnswerCarriesItsLengthAndTheSerializedRecord()
    {
        using var client = Testing.CreateClient();
        var id = await CreateIdAsync(client, "bytes-http", "Over HTTP");
        await GetActiveAsync(client, "bytes-http");

        using var response = await client.GetAsync(ActiveStrategy("bytes-http"));
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.That(response.Content.Headers.ContentType?.ToString(), Is.EqualTo("application/json; charset=utf-8"));
        Assert.That(response.Content.Headers.ContentLength, Is.EqualTo(body.Length));
        var answer = System.Text.Json.Nodes.JsonNode.Parse(body)!;
        Assert.That(answer["strategy"]!["id"]!.GetValue<long>(), Is.EqualTo(id));
        Assert.That(answer["cache_info"]!["source"]!.GetValue<string>(), Is.EqualTo("memory"));
    }
}
