using System.Net;
using System.Net.Http.Headers;
using ContentPlanning.Api.Tests.Infrastructure;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Auth;

public sealed class AuthenticationTests : DatabaseTest
{
    private const string Strategies = ApiRoot + "/strategies?user_id=alice";

    private static IEnumerable<TestCaseData> BadTokens()
    {
        var now = DateTime.UtcNow;
        yield return new TestCaseData((Func<string?>)(() => null)).SetArgDisplayNames("no token");
        yield return new TestCaseData((Func<string?>)(() => Tokens.Mint(notBefore: now.AddHours(-3), expires: now.AddHours(-2)))).SetArgDisplayNames("expired");
        yield return new TestCaseData((Func<string?>)(() => Tokens.Mint(notBefore: now.AddHours(1), expires: now.AddHours(2)))).SetArgDisplayNames("not yet valid");
        yield return new TestCaseData((Func<string?>)(() => Tokens.Mint(audience: "another-api"))).SetArgDisplayNames("wrong audience");
        yield return new TestCaseData((Func<string?>)(() => Tokens.Mint(issuer: "https://evil.test"))).SetArgDisplayNames("wrong issuer");
        yield return new TestCaseData((Func<string?>)(() => Tokens.Mint(key: new byte[32]))).SetArgDisplayNames("wrong signature");
        yield return new TestCaseData((Func<string?>)(() => Tokens.Unsigned())).SetArgDisplayNames("alg none");
        yield return new TestCaseData((Func<string?>)(() => "not-a-jwt")).SetArgDisplayNames("garbage");
    }

    [TestCaseSource(nameof(BadTokens))]
    public async Task AMissingOrInvalidTokenIsA401ProblemWithABearerChallenge(Func<string?> token)
    {
        var value = token();
        using var client = value is null ? Testing.Factory.CreateAnonymousClient() : Testing.Factory.CreateClient(value);

        using var response = await client.GetAsync(Strategies);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
        Assert.That(response.Headers.WwwAuthenticate.Select(h => h.Scheme), Does.Contain("Bearer"));
    }

    [Test]
    public async Task TheSameRequestWithAValidTokenIsAdmitted()
    {
        using var client = Testing.Factory.CreateClient(Tokens.Mint());

        using var response = await client.GetAsync(Strategies);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task AReadOnlyTokenCannotWrite()
    {
        using var client = Testing.Factory.CreateClient(Tokens.User("alice", "content-planning.read"));

        using var read = await client.GetAsync(Strategies);
        using var write = await client.PostJsonAsync(ApiRoot + "/strategies", """{"user_id": "alice", "name": "S"}""");

        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await AssertProblemAsync(write, HttpStatusCode.Forbidden);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM content_strategies"), Is.Zero);
    }

    [Test]
    public async Task AWriteOnlyTokenCannotRead()
    {
        using var client = Testing.Factory.CreateClient(Tokens.User("alice", "content-planning.write"));

        using var response = await client.GetAsync(Strategies);

        await AssertProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task HealthAndTheOpenApiDocumentStayOpen()
    {
        using var client = Testing.Factory.CreateAnonymousClient();

        using var live = await client.GetAsync("/health/live");
        using var ready = await client.GetAsync("/health/ready");
        using var openApi = await client.GetAsync("/openapi/v1.json");

        Assert.That(live.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ready.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(openApi.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        var health = await JsonAsync(ready);
        Assert.That(health.GetProperty("checks").GetProperty("auth").GetProperty("data").GetProperty("mode").GetString(), Is.EqualTo("jwt"));
    }

    [Test]
    public async Task AdminRoutesTakeTheAdminScopeOrTheKeyAndRefuseAPlainToken()
    {
        const string stats = ApiRoot + "/calendar-generation/cache/stats";
        using var admin = Testing.Factory.CreateClient(Tokens.User("ops", "content-planning.admin"));
        using var plain = Testing.Factory.CreateClient(Tokens.User("alice"));
        using var keyed = Testing.Factory.CreateAnonymousClient();
        keyed.DefaultRequestHeaders.Add("X-Admin-Key", ApiFactory.AdminKey);

        using var byScope = await admin.GetAsync(stats);
        using var byKey = await keyed.GetAsync(stats);
        using var refused = await plain.GetAsync(stats);

        Assert.That(byScope.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(byKey.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await AssertProblemAsync(refused, HttpStatusCode.Forbidden);
    }

    [Test]
    public async Task ABearerHeaderOfAnotherSchemeIsNotAToken()
    {
        using var client = Testing.Factory.CreateAnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", "YWxpY2U6c2VjcmV0");

        using var response = await client.GetAsync(Strategies);

        await AssertProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Test]
    public async Task TheOpenApiDocumentDeclaresTheBearerSchemeAndEachOperationsScope()
    {
        using var client = Testing.Factory.CreateAnonymousClient();
        var document = await JsonAsync(await client.GetAsync("/openapi/v1.json"));

        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.That(scheme.GetProperty("scheme").GetString(), Is.EqualTo("bearer"));
        var operations = document.GetProperty("paths").EnumerateObject()
            .Where(p => p.Name.StartsWith(ApiRoot, StringComparison.Ordinal) && !p.Name.Contains("/test/", StringComparison.Ordinal) && !p.Name.EndsWith("/health", StringComparison.Ordinal))
            .SelectMany(p => p.Value.EnumerateObject().Select(o => (Path: p.Name, Method: o.Name, Operation: o.Value)))
            .ToList();
        Assert.That(operations, Has.Count.GreaterThanOrEqualTo(30));
        foreach (var (path, method, operation) in operations)
        {
            var scopes = operation.GetProperty("security").EnumerateArray()
                .SelectMany(r => r.EnumerateObject()).Where(r => r.Name == "Bearer")
                .SelectMany(r => r.Value.EnumerateArray()).Select(s => s.GetString()).ToList();
            var expected = path.Contains("/cache/", StringComparison.Ordinal) || path.Contains("/diagnostics/", StringComparison.Ordinal)
                ? "content-planning.admin"
                : method == "get" ? "content-planning.read" : "content-planning.write";
            Assert.That(scopes, Is.EqualTo(new[] { expected }), $"{method} {path}");
        }
    }
}
