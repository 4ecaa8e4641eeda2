using System.Net;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>
/// Issue 10 items 4 and 5: values PostgreSQL cannot store, or that could not be answered once stored, are 400 problems naming
/// the field, and nothing is written.
/// </summary>
public sealed class StorableInputTests : DatabaseTest
{
    private static string Deep(int levels) => new string('[', levels) + "\"k\"" + new string(']', levels);

    public static IEnumerable<TestCaseData> Writes()
    {
        yield return new TestCaseData("POST", "/recommendations", """{"user_id": "u1", "recommendation_type": "blog", "title": "a\u0000b"}""", "title")
            .SetName("A NUL in a text field");
        yield return new TestCaseData("POST", "/recommendations", """{"user_id": "u1", "recommendation_type": "blog", "title": "t", "platforms": ["x\u0000"]}""", "platforms")
            .SetName("A NUL inside a JSON value");
        yield return new TestCaseData("POST", "/recommendations", """{"user_id": "demo-dave\n", "recommendation_type": "blog", "title": "t"}""", "user_id")
            .SetName("A user id with a trailing newline in the body");
        yield return new TestCaseData("POST", "/analytics", """{"user_id": "u1", "platform": "blog", "metrics": {"views": 1e1000000}}""", "metrics")
            .SetName("A number jsonb cannot hold");
        yield return new TestCaseData("POST", "/recommendations", $$"""{"user_id": "u1", "recommendation_type": "blog", "title": "t", "target_keywords": {{Deep(62)}}}""", "target_keywords")
            .SetName("JSON nested deeper than answers can carry");
        // Issue 21 item 3: each of these answered 500 (StorableInput's walk threw on the lazily read value).
        yield return new TestCaseData("PUT", "/users/u1/profile", """{"target_audience": {"a": 1, "a": 2}}""", "target_audience")
            .SetName("Duplicate keys in a JSON value");
        yield return new TestCaseData("PUT", "/users/u1/profile", """{"target_audience": {"x": [{"b": {"a": 1, "a": 2}}]}}""", "target_audience")
            .SetName("Duplicate keys nested in a JSON value");
        yield return new TestCaseData("POST", "/analytics", """{"user_id": "u1", "platform": "blog", "metrics": {"k": "\ud800"}}""", "metrics")
            .SetName("A lone high surrogate escape in a JSON value");
        yield return new TestCaseData("POST", "/recommendations", """{"user_id": "u1", "recommendation_type": "blog", "title": "t", "target_keywords": ["\udc00"]}""", "target_keywords")
            .SetName("A lone low surrogate escape in a JSON list");
        yield return new TestCaseData("POST", "/analytics", """{"user_id": "u1", "platform": "blog", "metrics": {"n": {"\ud800x": 1}}}""", "metrics")
            .SetName("A lone surrogate escape in a nested JSON key");
        yield return new TestCaseData("PUT", "/users/u1/profile", """{"industry": "a\u0000"}""", "industry")
            .SetName("A NUL in a profile field");
        yield return new TestCaseData("PUT", "/users/demo-dave%0A/profile", """{"industry": "retail"}""", "user_id")
            .SetName("A user id with a trailing newline in the path");
    }

    [TestCaseSource(nameof(Writes))]
    public async Task UnstorableInputIsA400NamingTheFieldAndWritesNothing(string method, string path, string body, string field)
    {
        using var client = Testing.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), ApiRoot + path) { Content = Body(body) };

        using var response = await client.SendAsync(request);

        Assert.That(await ValidationErrorFieldsAsync(response), Does.Contain(field));
        Assert.That(await Testing.ScalarAsync<long>("""
            SELECT (SELECT count(*) FROM content_recommendations) + (SELECT count(*) FROM content_analytics) + (SELECT count(*) FROM user_profiles)
            """), Is.Zero);
    }

    [TestCase("/users/demo-dave%0A/active-strategy")]
    [TestCase("/strategies?user_id=a%00b")]
    [TestCase("/analytics?user_id=u1&platform=x%00")]
    public async Task HostilePathAndQueryValuesAre400Problems(string url)
    {
        using var client = Testing.CreateClient();
        using var response = await client.GetAsync(ApiRoot + url);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
    }

    [Test]
    public async Task JsonAtTheDepthLimitIsStoredAndAnsweredBack()
    {
        using var client = Testing.CreateClient();
        using var created = await client.PostJsonAsync(ApiRoot + "/recommendations",
            $$"""{"user_id": "deep-ok", "recommendation_type": "blog", "title": "t", "target_keywords": {{Deep(31)}}}""");
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());

        using var list = await client.GetAsync(ApiRoot + "/recommendations?user_id=deep-ok");
        Assert.That(list.StatusCode, Is.EqualTo(HttpStatusCode.OK), await list.Content.ReadAsStringAsync());
        using var comprehensive = await client.GetAsync(ApiRoot + "/calendar-generation/comprehensive-user-data?user_id=deep-ok");
        Assert.That((int)comprehensive.StatusCode, Is.AnyOf(200, 404), await comprehensive.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task AnAnswerThatCannotBeSerializedIsTheServicesFaultNotTheCallers()
    {
        // Written behind the API's back (psql, an import): deeper than any answer can carry.
        await Testing.ExecuteAsync(
            "INSERT INTO content_recommendations (user_id, recommendation_type, title, target_keywords) VALUES ('deep-sql', 'blog', 't', @json::jsonb)",
            new { json = Deep(62) });
        using var client = Testing.CreateClient();

        using var response = await client.GetAsync(ApiRoot + "/recommendations?user_id=deep-sql");

        await AssertProblemAsync(response, HttpStatusCode.InternalServerError);
    }
}
