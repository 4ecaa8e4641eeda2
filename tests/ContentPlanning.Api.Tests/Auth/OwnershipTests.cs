using System.Net;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using MediatR;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Auth;

public sealed class OwnershipTests : DatabaseTest
{
    [Test]
    public void EveryRequestTypeDeclaresWhoseDataItTouches()
    {
        var markers = new[] { typeof(IUserScoped), typeof(IOwnedResource), typeof(IOwnerFilteredResource), typeof(IAdminRequest) };
        var undeclared = typeof(FeatureRegistration).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsInterface: false } && t.GetInterfaces().Any(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IRequest<>)))
            .Where(t => !markers.Any(m => m.IsAssignableFrom(t)))
            .Select(t => t.FullName)
            .ToList();

        Assert.That(undeclared, Is.Empty, "each MediatR request must implement IUserScoped, IOwnedResource, IOwnerFilteredResource or IAdminRequest");
    }

    [Test]
    public async Task AnEndUserWorksOnItsOwnDataAndTheTokensUserFillsAMissingUserId()
    {
        using var alice = Testing.Factory.CreateClient(Tokens.User("alice"));

        using var created = await alice.PostJsonAsync(ApiRoot + "/strategies", """{"name": "Mine"}""");
        var strategy = await JsonAsync(created);
        var id = strategy.GetProperty("id").GetInt64();
        using var read = await alice.GetAsync($"{ApiRoot}/strategies/{id}");
        using var listed = await alice.GetAsync(ApiRoot + "/strategies");
        using var listedByName = await alice.GetAsync(ApiRoot + "/strategies?user_id=alice");
        using var updated = await alice.PutJsonAsync($"{ApiRoot}/strategies/{id}", """{"name": "Still mine"}""");

        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created), await created.Content.ReadAsStringAsync());
        Assert.That(strategy.GetProperty("user_id").GetString(), Is.EqualTo("alice"));
        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That((await JsonAsync(listed)).GetProperty("items").GetArrayLength(), Is.EqualTo(1));
        Assert.That((await JsonAsync(listedByName)).GetProperty("items").GetArrayLength(), Is.EqualTo(1));
        Assert.That(updated.StatusCode, Is.EqualTo(HttpStatusCode.OK), await updated.Content.ReadAsStringAsync());
    }

    [Test]
    public async Task AnotherUsersObjectAnswersExactlyLikeAMissingOne()
    {
        var bobs = await SeedStrategyAsync("bob");
        using var alice = Testing.Factory.CreateClient(Tokens.User("alice"));

        using var other = await alice.GetAsync($"{ApiRoot}/strategies/{bobs}");
        using var missing = await alice.GetAsync($"{ApiRoot}/strategies/{bobs + 1000}");

        await AssertProblemAsync(other, HttpStatusCode.NotFound);
        await AssertProblemAsync(missing, HttpStatusCode.NotFound);
        var (a, b) = (await JsonAsync(other), await JsonAsync(missing));
        Assert.That(a.GetProperty("title").GetString(), Is.EqualTo(b.GetProperty("title").GetString()));
        Assert.That(a.GetProperty("detail").GetString(), Is.EqualTo($"Content strategy {bobs} does not exist."));
        Assert.That(b.GetProperty("detail").GetString(), Is.EqualTo($"Content strategy {bobs + 1000} does not exist."));
    }

    [Test]
    public async Task AnotherUsersPathQueryAndBodyAre404AndChangeNothing()
    {
        var bobs = await SeedStrategyAsync("bob");
        using var alice = Testing.Factory.CreateClient(Tokens.User("alice"));

        using var path = await alice.GetAsync(ApiRoot + "/users/bob/active-strategy");
        using var query = await alice.GetAsync(ApiRoot + "/strategies?user_id=bob");
        using var body = await alice.PostJsonAsync(ApiRoot + "/strategies", """{"user_id": "bob", "name": "Planted"}""");
        using var delete = await alice.DeleteAsync($"{ApiRoot}/strategies/{bobs}");
        using var update = await alice.PutJsonAsync($"{ApiRoot}/strategies/{bobs}", """{"name": "Hijacked"}""");

        foreach (var response in new[] { path, query, body, delete, update })
        {
            await AssertProblemAsync(response, HttpStatusCode.NotFound);
        }

        Assert.That(await Testing.ScalarAsync<string>("SELECT string_agg(name, ',') FROM content_strategies"), Is.EqualTo("Strategy"));
    }

    [Test]
    public async Task AServiceTokenWithAnyUserActsForEveryone()
    {
        var bobs = await SeedStrategyAsync("bob");
        using var service = Testing.CreateClient();

        using var read = await service.GetAsync($"{ApiRoot}/strategies/{bobs}");
        using var created = await service.PostJsonAsync(ApiRoot + "/strategies", """{"user_id": "carol", "name": "Hers"}""");

        Assert.That(read.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(created.StatusCode, Is.EqualTo(HttpStatusCode.Created));
    }

    [Test]
    public async Task ATokenWithoutAUserClaimActsForNobody()
    {
        await SeedStrategyAsync("bob");
        using var client = Testing.Factory.CreateClient(Tokens.Mint(subject: ""));

        using var response = await client.GetAsync(ApiRoot + "/strategies");

        await AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Test]
    public async Task TheCacheNeverServesOneUsersAnswerToAnother()
    {
        var bobs = await SeedStrategyAsync("bob", "Bob's plan");
        await Testing.ExecuteAsync("INSERT INTO strategy_activation_status (strategy_id, user_id, status) VALUES (@bobs, 'bob', 'active')", new { bobs });
        using var bob = Testing.Factory.CreateClient(Tokens.User("bob"));
        using var alice = Testing.Factory.CreateClient(Tokens.User("alice"));
        const string comprehensive = ApiRoot + "/calendar-generation/comprehensive-user-data";

        using var warm = await bob.GetAsync(comprehensive);
        using var again = await bob.GetAsync(comprehensive + "?user_id=bob");
        using var named = await alice.GetAsync(comprehensive + "?user_id=bob");
        using var own = await alice.GetAsync(comprehensive);
        using var active = await alice.GetAsync(ApiRoot + "/users/bob/active-strategy");

        Assert.That(warm.StatusCode, Is.EqualTo(HttpStatusCode.OK), await warm.Content.ReadAsStringAsync());
        Assert.That((await JsonAsync(again)).GetProperty("cache_info").GetProperty("source").GetString(), Is.EqualTo("memory"));
        await AssertProblemAsync(named, HttpStatusCode.NotFound);
        await AssertProblemAsync(active, HttpStatusCode.NotFound);
        Assert.That(await own.Content.ReadAsStringAsync(), Does.Not.Contain("Bob's plan"));
    }
}
