using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>Helpers the source-data slice tests share: seeding, JSON bodies, problem reading and the invalidation check.</summary>
internal static class SourceData
{
    public const string ApiRoot = "/api/content-planning";

    public static Task<long> SeedStrategyAsync(string userId, string name = "Strategy") =>
        Testing.ScalarAsync<long>("INSERT INTO content_strategies (user_id, name) VALUES (@userId, @name) RETURNING id", new { userId, name });

    public static Task<long> SeedEventAsync(long strategyId) =>
        Testing.ScalarAsync<long>(
            "INSERT INTO calendar_events (strategy_id, title, scheduled_at) VALUES (@strategyId, 'Post', now()) RETURNING id", new { strategyId });

    public static StringContent Body(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.Clone();
    }

    /// <summary>Asserts a 400 validation problem and returns the names of the fields in <c>errors</c>.</summary>
    public static async Task<string[]> ValidationErrorFieldsAsync(HttpResponseMessage response)
    {
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        var json = await JsonAsync(response);
        return json.GetProperty("errors").EnumerateObject().Select(p => p.Name).ToArray();
    }

    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.That(response.StatusCode, Is.EqualTo(status), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        using var problem = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.That(problem.RootElement.TryGetProperty("type", out var type) && type.GetString() is { Length: > 0 }, "every problem has a type");
        Assert.That(problem.RootElement.TryGetProperty("trace_id", out _), "every problem has a trace_id");
    }

    /// <summary>The write evicts the user's comprehensive data but leaves the active strategy in memory.</summary>
    public static async Task AssertWriteKeepsActiveStrategyCachedAsync(HttpClient client, string userId, Func<Task<HttpResponseMessage>> write)
    {
        var active = $"{ApiRoot}/users/{userId}/active-strategy";
        var comprehensive = $"{ApiRoot}/calendar-generation/comprehensive-user-data?user_id={userId}";
        await CacheSourceAsync(client, active);
        Assert.That(await CacheSourceAsync(client, active), Is.EqualTo("memory"), "the active strategy is not cached before the write");
        await CacheSourceAsync(client, comprehensive);
        Assert.That(await CacheSourceAsync(client, comprehensive), Is.EqualTo("memory"), "the comprehensive data is not cached before the write");

        using var response = await write();
        Assert.That((int)response.StatusCode, Is.InRange(200, 299), await response.Content.ReadAsStringAsync());

        Assert.That(await CacheSourceAsync(client, active), Is.EqualTo("memory"));
        Assert.That(await CacheSourceAsync(client, comprehensive), Is.Not.EqualTo("memory"));
    }

    private static async Task<string?> CacheSourceAsync(HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var json = await JsonAsync(response);
        return json.GetProperty("cache_info").GetProperty("source").GetString();
    }

    public static async Task<HttpResponseMessage> PostJsonAsync(this HttpClient client, string url, string json)
    {
        using var content = Body(json);
        return await client.PostAsync(url, content);
    }

    public static async Task<HttpResponseMessage> PutJsonAsync(this HttpClient client, string url, string json)
    {
        using var content = Body(json);
        return await client.PutAsync(url, content);
    }

    public static Task<HttpResponseMessage> PostAsJsonSnakeAsync<T>(this HttpClient client, string url, T body) => client.PostAsJsonAsync(url, body, Testing.Json);
}
