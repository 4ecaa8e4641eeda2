using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.Foundation;

public sealed class HttpConventionTests
{
    private const string Echo = "/api/content-planning/test/echo";

    [Test]
    public async Task JsonIsSnakeCaseBothWaysWithEnumsAsSnakeCaseStrings()
    {
        using var client = Testing.CreateClient();
        using var content = Body("""{"count": 3, "colour": "deep_blue", "text": "hi"}""");
        using var response = await client.PostAsync(Echo, content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(json.RootElement.GetProperty("colour").GetString(), Is.EqualTo("deep_blue"));
        Assert.That(json.RootElement.GetProperty("count").GetInt32(), Is.EqualTo(3));
    }

    [TestCase("""{"count": 3, "colour": "red", "text": "x" """, TestName = "Truncated JSON")]
    [TestCase("""{"count": "three", "colour": "red", "text": "x"}""", TestName = "Wrong type")]
    [TestCase("""{"count": 3, "colour": "purple", "text": "x"}""", TestName = "Unknown enum value")]
    [TestCase("""{"count": 3, "colour": 1, "text": "x"}""", TestName = "Enum as a number")]
    [TestCase("not json at all", TestName = "Not JSON")]
    public async Task MalformedBodiesGet400ProblemDetails(string body)
    {
        using var client = Testing.CreateClient();
        using var content = Body(body);
        using var response = await client.PostAsync(Echo, content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(json.RootElement.GetProperty("status").GetInt32(), Is.EqualTo(400));
        Assert.That(json.RootElement.TryGetProperty("trace_id", out _), Is.True);
    }

    [Test]
    public async Task ABindingFailureNamesTheParameterAndNotTheCSharpType()
    {
        using var client = Testing.CreateClient();
        using var query = await client.GetAsync("/api/content-planning/strategies?user_id=u-1&limit=abc");
        using var content = Body("""{"count": "three", "colour": "red", "text": "x"}""");
        using var body = await client.PostAsync(Echo, content);

        Assert.That(query.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        Assert.That(await Detail(query), Is.EqualTo("'limit' cannot be 'abc': it must be a whole number."));
        Assert.That(await Detail(body), Does.Contain("'$.count'").And.Not.Contain("System."));
    }

    private static async Task<string?> Detail(HttpResponseMessage response)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("detail").GetString();
    }

    [Test]
    public async Task EveryAnswerSaysItsServerTime()
    {
        using var client = Testing.CreateClient();
        using var found = await client.GetAsync("/health/live");
        using var problem = await client.GetAsync("/api/content-planning/strategies/0");
        foreach (var response in new[] { found, problem })
        {
            var timing = response.Headers.GetValues("Server-Timing").Single();
            Assert.That(timing, Does.Match(@"^app;dur=\d+(\.\d+)?$"));
        }
    }

    [Test]
    public async Task ABodyOverOneMebibyteGets413()
    {
        using var client = Testing.CreateClient();
        var text = new string('x', 1024 * 1024 + 10);
        // With its length (a chunked body is counted by Kestrel: UserProfileTests runs that case on a Kestrel node).
        using var content = new StringContent(JsonSerializer.Serialize(new { count = 1, colour = "red", text }), Encoding.UTF8, "application/json");
        using var response = await client.PostAsync(Echo, content);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.RequestEntityTooLarge));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task AnUnhandledExceptionIsA500ProblemWithATraceIdAndNoInternals()
    {
        using var client = Testing.CreateClient();
        using var response = await client.GetAsync("/api/content-planning/test/throw");
        var text = await response.Content.ReadAsStringAsync();

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.InternalServerError));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(text, Does.Not.Contain("SELECT").And.Not.Contain("InvalidOperationException").And.Not.Contain(" at "));
        using var json = JsonDocument.Parse(text);
        Assert.That(json.RootElement.GetProperty("trace_id").GetString(), Has.Length.EqualTo(32));
    }

    [Test]
    public async Task AnUnknownRouteIs404ProblemDetails()
    {
        using var client = Testing.CreateClient();
        using var response = await client.GetAsync("/api/content-planning/no-such-thing");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    private static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");
}
