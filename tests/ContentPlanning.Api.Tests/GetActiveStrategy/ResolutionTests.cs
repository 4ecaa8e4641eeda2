using System.Net;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.GetActiveStrategy;

public sealed class ResolutionTests : DatabaseTest
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);

    [Test]
    public async Task TheActiveStrategyWinsOverNewerAndAnalyzedOnes()
    {
        using var client = Testing.CreateClient();
        var active = await InsertAsync("user-1", "Active, old, no analysis", T0.AddDays(-10));
        await InsertAsync("user-1", "Analyzed", T0, """{"summary": "x"}""");
        await InsertAsync("user-1", "Newest", T0.AddDays(1));
        await ActivateAsync(client, active);

        var answer = await GetActiveAsync(client, "user-1");

        Assert.That(StrategyId(answer), Is.EqualTo(active));
        Assert.That(answer["resolution"]!.GetValue<string>(), Is.EqualTo("active"));
        Assert.That(answer["activation"]!["status"]!.GetValue<string>(), Is.EqualTo("active"));
        Assert.That(answer["activation"]!["activation_date"]!.GetValue<DateTimeOffset>(), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
    }

    [Test]
    public async Task WithoutAnActiveStrategyTheMostRecentAnalyzedOneIsUsed()
    {
        using var client = Testing.CreateClient();
        await InsertAsync("user-1", "Old analyzed", T0.AddDays(-2), """{"summary": "old"}""");
        var analyzed = await InsertAsync("user-1", "Recent analyzed", T0, """{"summary": "recent"}""");
        await InsertAsync("user-1", "Newest, not analyzed", T0.AddDays(1));
        var paused = await InsertAsync("user-1", "Paused", T0.AddDays(2));
        await ActivateAsync(client, paused);
        await ActivateAsync(client, paused, "pause");

        var answer = await GetActiveAsync(client, "user-1");

        Assert.That(StrategyId(answer), Is.EqualTo(analyzed));
        Assert.That(answer["resolution"]!.GetValue<string>(), Is.EqualTo("fallback_most_recent_analyzed"));
        Assert.That(answer["activation"], Is.Null);
        Assert.That(answer["strategy"]!["comprehensive_ai_analysis"]!["summary"]!.GetValue<string>(), Is.EqualTo("recent"));
    }

    [Test]
    public async Task AnAnalysisThatIsJsonNullDoesNotCountAsAnalyzed()
    {
        using var client = Testing.CreateClient();
        var older = await InsertAsync("user-1", "Analyzed", T0, """{"summary": "x"}""");
        await InsertAsync("user-1", "JSON null", T0.AddDays(1), "null");

        var answer = await GetActiveAsync(client, "user-1");

        Assert.That(StrategyId(answer), Is.EqualTo(older));
    }

    [Test]
    public async Task WithNothingActiveOrAnalyzedTheMostRecentStrategyIsUsed()
    {
        using var client = Testing.CreateClient();
        await InsertAsync("user-1", "Old", T0.AddDays(-1));
        var newest = await InsertAsync("user-1", "Newest", T0);
        await InsertAsync("user-1", "Older", T0.AddDays(-3));
        await InsertAsync("user-2", "Another user's, newer and analyzed", T0.AddDays(5), """{"summary": "x"}""");

        var answer = await GetActiveAsync(client, "user-1");

        Assert.That(StrategyId(answer), Is.EqualTo(newest));
        Assert.That(answer["resolution"]!.GetValue<string>(), Is.EqualTo("fallback_most_recent"));
        Assert.That(answer["activation"], Is.Null);
    }

    [Test]
    public async Task AmongAnalyzedStrategiesCreatedAtTheSameInstantTheHigherIdWins()
    {
        using var client = Testing.CreateClient();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await InsertAsync("user-1", $"Tied {i}", T0, """{"summary": "x"}"""));
        }

        await InsertAsync("user-1", "Older analyzed", T0.AddTicks(-10), """{"summary": "x"}""");

        var answer = await GetActiveAsync(client, "user-1");

        Assert.That(StrategyId(answer), Is.EqualTo(ids.Max()));
        Assert.That(answer["resolution"]!.GetValue<string>(), Is.EqualTo("fallback_most_recent_analyzed"));
    }

    [Test]
    public async Task AmongStrategiesCreatedAtTheSameInstantTheHigherIdWins()
    {
        using var client = Testing.CreateClient();
        var ids = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add(await InsertAsync("user-1", $"Tied {i}", T0));
        }

        await InsertAsync("user-1", "Older", T0.AddTicks(-10));

        var answer = await GetActiveAsync(client, "user-1");

        Assert.That(StrategyId(answer), Is.EqualTo(ids.Max()));
        Assert.That(answer["resolution"]!.GetValue<string>(), Is.EqualTo("fallback_most_recent"));
    }

    [Test]
    public async Task AUserWithoutStrategiesGets404ProblemDetails()
    {
        using var client = Testing.CreateClient();
        await InsertAsync("user-2", "Someone else's", T0);

        using var response = await client.GetAsync(ActiveStrategy("user-1"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task AUserWhoWasAnswered404GetsTheirFirstStrategyOnceTheyCreateOne()
    {
        using var client = Testing.CreateClient();
        using var before = await client.GetAsync(ActiveStrategy("user-1"));
        Assert.That(before.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));

        var id = await CreateIdAsync(client, "user-1", "First");

        Assert.That(StrategyId(await GetActiveAsync(client, "user-1")), Is.EqualTo(id));
    }
}
