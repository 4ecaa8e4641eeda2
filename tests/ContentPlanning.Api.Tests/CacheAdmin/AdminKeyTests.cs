using System.Net;
using System.Text;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.CacheAdmin;

public sealed class AdminKeyTests : DatabaseTest
{
    private static IEnumerable<TestCaseData> Routes()
    {
        yield return new TestCaseData("GET", "/stats").SetArgDisplayNames("stats");
        yield return new TestCaseData("DELETE", "/invalidate/guarded").SetArgDisplayNames("invalidate");
        yield return new TestCaseData("POST", "/cleanup").SetArgDisplayNames("cleanup");
        yield return new TestCaseData("POST", "/warm").SetArgDisplayNames("warm");
    }

    [TestCaseSource(nameof(Routes))]
    public async Task WithoutTheHeaderEveryRouteIs401(string method, string route)
    {
        using var client = Testing.Factory.CreateAnonymousClient();

        using var request = Request(method, route, key: null);
        using var response = await client.SendAsync(request);

        await AssertUnauthorizedAsync(response);
    }

    [TestCaseSource(nameof(Routes))]
    public async Task WithAWrongKeyEveryRouteIs401(string method, string route)
    {
        using var client = Testing.Factory.CreateAnonymousClient();

        using var request = Request(method, route, key: "test-admin-key-0123456788");
        using var response = await client.SendAsync(request);

        await AssertUnauthorizedAsync(response);
    }

    [Test]
    public async Task ARefusedInvalidateRemovesNothing()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("guarded");
        await GetAsync(client, "guarded");

        using var request = Request("DELETE", "/invalidate/guarded", key: "wrong");
        using var response = await client.SendAsync(request);
        var next = await GetAsync(client, "guarded");

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(Source(next), Is.EqualTo("memory"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache WHERE user_id = 'guarded'"), Is.EqualTo(1));
    }

    [Test]
    public async Task TheRightKeyIsAdmitted()
    {
        using var client = Testing.CreateClient();

        using var request = Request("GET", "/stats", Infrastructure.ApiFactory.AdminKey);
        using var response = await client.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
    }

    private static HttpRequestMessage Request(string method, string route, string? key)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), CacheRoot + route);
        if (method == "POST")
        {
            request.Content = new StringContent("""{"user_ids": ["guarded"]}""", Encoding.UTF8, "application/json");
        }

        if (key is not null)
        {
            request.Headers.Add("X-Admin-Key", key);
        }

        return request;
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response)
    {
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await response.Content.ReadAsStringAsync(), Does.Not.Contain("node_id").And.Not.Contain("deleted_count"));
    }

    [Test]
    public async Task TheKeyIsCheckedBeforeTheBodyIsRead()
    {
        var url = "/api/content-planning/calendar-generation/cache/warm";
        using var anonymous = Testing.Factory.CreateAnonymousClient();
        using var malformed = new StringContent("{not json", Encoding.UTF8, "application/json");
        using var withoutKey = await anonymous.PostAsync(url, malformed);
        Assert.That(withoutKey.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), await withoutKey.Content.ReadAsStringAsync());
        Assert.That(withoutKey.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));

        using var wrongKey = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent("[[[", Encoding.UTF8, "application/json") };
        wrongKey.Headers.Add("X-Admin-Key", "wrong");
        using var refused = await anonymous.SendAsync(wrongKey);
        Assert.That(refused.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));

        using var rightKey = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent("{not json", Encoding.UTF8, "application/json") };
        rightKey.Headers.Add("X-Admin-Key", Infrastructure.ApiFactory.AdminKey);
        using var admitted = await anonymous.SendAsync(rightKey);
        Assert.That(admitted.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), "with the key, the malformed body is the caller's fault");
    }
}
