using System.Net;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.ActivateStrategy;

public sealed class ActivateStrategyTests : DatabaseTest
{
    [Test]
    public async Task ActivatingDeactivatesThePreviousStrategy()
    {
        using var client = Testing.CreateClient();
        var first = await CreateIdAsync(client, "user-1", "First");
        var second = await CreateIdAsync(client, "user-1", "Second");
        await ActivateAsync(client, first);

        var response = await ActivateAsync(client, second);

        Assert.That(response["activation"]!["status"]!.GetValue<string>(), Is.EqualTo("active"));
        Assert.That(response["activation"]!["strategy_id"]!.GetValue<long>(), Is.EqualTo(second));
        Assert.That(response["activation"]!["activation_date"]!.GetValue<DateTimeOffset>(), Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
        Assert.That(response["strategy"]!["name"]!.GetValue<string>(), Is.EqualTo("Second"));
        Assert.That(response["previous_active_strategy_id"]!.GetValue<long>(), Is.EqualTo(first));
        Assert.That(await StatusAsync(first), Is.EqualTo("inactive"));
        Assert.That(await StatusAsync(second), Is.EqualTo("active"));
        Assert.That(StrategyId(await GetActiveAsync(client, "user-1")), Is.EqualTo(second));
    }

    [Test]
    public async Task ActivatingLeavesOtherUsersActiveStrategiesAlone()
    {
        using var client = Testing.CreateClient();
        var theirs = await CreateIdAsync(client, "user-2", "Theirs");
        var mine = await CreateIdAsync(client, "user-1", "Mine");
        await ActivateAsync(client, theirs);

        await ActivateAsync(client, mine);

        Assert.That(await StatusAsync(theirs), Is.EqualTo("active"));
        Assert.That(await StatusAsync(mine), Is.EqualTo("active"));
    }

    [Test]
    public async Task ActivatingTheActiveStrategyAgainChangesNothing()
    {
        using var client = Testing.CreateClient();
        var id = await CreateIdAsync(client, "user-1", "Only");
        var first = await ActivateAsync(client, id);

        var again = await ActivateAsync(client, id);

        Assert.That(again["changed"]!.GetValue<bool>(), Is.False);
        Assert.That(first["changed"]!.GetValue<bool>(), Is.True);
        Assert.That(again["activation"]!["activation_date"]!.GetValue<DateTimeOffset>(),
            Is.EqualTo(first["activation"]!["activation_date"]!.GetValue<DateTimeOffset>()));
        Assert.That(await StatusAsync(id), Is.EqualTo("active"));
    }

    [TestCase("pause", "paused")]
    [TestCase("deactivate", "inactive")]
    public async Task PausingOrDeactivatingTheActiveStrategyLeavesTheUserWithoutAnActiveOne(string action, string status)
    {
        using var client = Testing.CreateClient();
        var id = await CreateIdAsync(client, "user-1", "Running");
        await ActivateAsync(client, id);

        var response = await ActivateAsync(client, id, action);

        Assert.That(response["activation"]!["status"]!.GetValue<string>(), Is.EqualTo(status));
        Assert.That(await StatusAsync(id), Is.EqualTo(status));
        var active = await GetActiveAsync(client, "user-1");
        Assert.That(active["resolution"]!.GetValue<string>(), Is.EqualTo("fallback_most_recent"));
        Assert.That(active["activation"]!["status"]!.GetValue<string>(), Is.EqualTo(status));
    }

    [Test]
    public async Task APausedStrategyCanBeActivatedAgain()
    {
        using var client = Testing.CreateClient();
        var id = await CreateIdAsync(client, "user-1", "Resumed");
        await ActivateAsync(client, id);
        await ActivateAsync(client, id, "pause");

        var response = await ActivateAsync(client, id);

        Assert.That(response["changed"]!.GetValue<bool>(), Is.True);
        Assert.That(await StatusAsync(id), Is.EqualTo("active"));
    }

    [Test]
    public async Task FiftyConcurrentActivationsOfOneUserEndWithExactlyOneActiveStrategy()
    {
        using var client = Testing.CreateClient();
        var ids = new List<long>();
        for (var i = 0; i < 50; i++)
        {
            ids.Add(await CreateIdAsync(client, "user-1", $"Candidate {i}"));
        }

        var responses = await Task.WhenAll(ids.Select(async id =>
        {
            using var response = await client.PostAsync($"{Root}/strategies/{id}/activate", null);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.That(responses.Where(r => r.StatusCode != HttpStatusCode.OK).Select(r => $"{(int)r.StatusCode} {r.Body}"), Is.Empty);
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM strategy_activation_status WHERE user_id = 'user-1' AND status = 'active'"),
            Is.EqualTo(1));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM strategy_activation_status WHERE user_id = 'user-1' AND status = 'inactive'"),
            Is.EqualTo(49));
        var activeId = await Testing.ScalarAsync<long>("SELECT strategy_id FROM strategy_activation_status WHERE status = 'active'");
        Assert.That(StrategyId(await GetActiveAsync(client, "user-1")), Is.EqualTo(activeId));
    }

    private static Task<string> StatusAsync(long strategyId) =>
        Testing.ScalarAsync<string>("SELECT status FROM strategy_activation_status WHERE strategy_id = @strategyId", new { strategyId });
}
