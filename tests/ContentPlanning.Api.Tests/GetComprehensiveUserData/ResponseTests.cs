using System.Net;
using System.Text.Json.Nodes;
using static ContentPlanning.Api.Tests.GetComprehensiveUserData.ComprehensiveApi;

namespace ContentPlanning.Api.Tests.GetComprehensiveUserData;

public sealed class ResponseTests : DatabaseTest
{
    [Test]
    public async Task ACompleteUserGetsEverySectionMergedOrderedAndTotalled()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("complete");
        var strategyId = await InsertStrategyAsync("complete", "Main", active: true);
        await InsertGapAnalysisAsync("complete", """["a", "b"]""", daysAgo: 5);
        await InsertGapAnalysisAsync("complete", """["c", "a"]""", daysAgo: 0);
        await InsertRecommendationAsync("complete", "Low one", "low");
        await InsertRecommendationAsync("complete", "High one", "high");
        await InsertRecommendationAsync("complete", "Medium one", "medium");
        await InsertAnalyticsAsync("complete", "linkedin", """{"views": 100, "likes": 5}""", 0.25f);
        await InsertAnalyticsAsync("complete", "linkedin", """{"views": 50, "likes": 1}""", 0.75f);
        await InsertAnalyticsAsync("complete", "youtube", """{"views": 10}""", 1f);

        var answer = await GetAsync(client, "complete");
        var data = answer["data"]!;

        Assert.That(answer["status"]!.GetValue<string>(), Is.EqualTo("success"));
        Assert.That(answer["message"]!.GetValue<string>(), Is.EqualTo("Comprehensive user data retrieved successfully (cache: MISS)"));
        Assert.That(data["user_id"]!.GetValue<string>(), Is.EqualTo("complete"));

        var onboarding = data["onboarding_data"]!;
        Assert.That(onboarding["industry"]!.GetValue<string>(), Is.EqualTo("technology"));
        Assert.That(onboarding["writing_tone"]!.GetValue<string>(), Is.EqualTo("professional"));
        Assert.That(onboarding["posting_preferences"]!.ToJsonString(), Is.EqualTo("""{"daily":1,"weekly":4,"monthly":16}"""));
        Assert.That(onboarding["posting_days"]!.ToJsonString(), Is.EqualTo("""["monday","friday"]"""));

        Assert.That(data["strategy_data"]!["strategy"]!["id"]!.GetValue<long>(), Is.EqualTo(strategyId));
        Assert.That(data["strategy_data"]!["resolution"]!.GetValue<string>(), Is.EqualTo("active"));
        Assert.That(data["strategy_data"]!["activation"]!["status"]!.GetValue<string>(), Is.EqualTo("active"));

        Assert.That(Strings(data["gap_analysis"]!["content_gaps"]!), Is.EqualTo(new[] { "c", "a", "b" }), "newest analysis first, duplicates once");
        Assert.That(Strings(data["gap_analysis"]!["keyword_opportunities"]!), Is.EqualTo(new[] { "kw" }));
        Assert.That(Strings(data["gap_analysis"]!["recommendations"]!), Is.EqualTo(new[] { "publish case studies" }));
        Assert.That(Strings(data["gap_analysis"]!["opportunities"]!), Is.EqualTo(new[] { "video" }));

        Assert.That(data["recommendations_data"]!.AsArray().Select(r => r!["title"]!.GetValue<string>()),
            Is.EqualTo(new[] { "High one", "Medium one", "Low one" }));

        var linkedin = data["performance_data"]!["linkedin"]!;
        Assert.That(linkedin["posts"]!.GetValue<long>(), Is.EqualTo(2));
        Assert.That(linkedin["avg_performance_score"]!.GetValue<double>(), Is.EqualTo(0.5).Within(1e-6));
        Assert.That(linkedin["totals"]!["views"]!.GetValue<double>(), Is.EqualTo(150));
        Assert.That(linkedin["totals"]!["likes"]!.GetValue<double>(), Is.EqualTo(6));
        Assert.That(data["performance_data"]!["youtube"]!["posts"]!.GetValue<long>(), Is.EqualTo(1));
        Assert.That(data["performance_data"]!["youtube"]!["totals"]!["views"]!.GetValue<double>(), Is.EqualTo(10));

        Assert.That(data["industry"]!.GetValue<string>(), Is.EqualTo("technology"));
        Assert.That(data["business_goals"]!.ToJsonString(), Is.EqualTo("""["grow qualified leads"]"""));
        var platform = data["platform_preferences"]!["linkedin"]!;
        Assert.That(platform["priority"]!.GetValue<string>(), Is.EqualTo("high"));
        Assert.That(platform["content_focus"]!.GetValue<string>(), Is.EqualTo("thought leadership"));
        Assert.That(platform["posting_frequency"]!.GetValue<string>(), Is.EqualTo("4/week"));

        Assert.That(data["data_quality"]!["completeness"]!.GetValue<double>(), Is.EqualTo(1.0));
        Assert.That(data["data_quality"]!["missing_sections"]!.AsArray(), Is.Empty);

        var info = answer["cache_info"]!;
        Assert.That(info["is_cached"]!.GetValue<bool>(), Is.False);
        Assert.That(info["is_stale"]!.GetValue<bool>(), Is.False);
        Assert.That(info["force_refresh"]!.GetValue<bool>(), Is.False);
        Assert.That(info["data_hash"]!.GetValue<string>(), Has.Length.EqualTo(64));
        Assert.That(info["generated_at"]!.GetValue<DateTimeOffset>(), Is.LessThanOrEqualTo(info["timestamp"]!.GetValue<DateTimeOffset>()));
    }

    [Test]
    public async Task AProfileOnlyUserGetsEmptySectionsNamedAsMissing()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("profile-only");

        var answer = await GetAsync(client, "profile-only");
        var data = answer["data"]!;

        Assert.That(Strings(data["data_quality"]!["missing_sections"]!),
            Is.EqualTo(new[] { "strategy_data", "gap_analysis", "recommendations_data", "performance_data" }));
        Assert.That(data["data_quality"]!["completeness"]!.GetValue<double>(), Is.EqualTo(0.2).Within(1e-9));
        Assert.That(data["onboarding_data"]!["industry"]!.GetValue<string>(), Is.EqualTo("technology"));
        Assert.That(data["strategy_data"], Is.Null);
        Assert.That(data["business_goals"], Is.Null);
        Assert.That(data["gap_analysis"]!["content_gaps"]!.AsArray(), Is.Empty);
        Assert.That(data["gap_analysis"]!["recommendations"]!.AsArray(), Is.Empty);
        Assert.That(data["recommendations_data"]!.AsArray(), Is.Empty);
        Assert.That(data["performance_data"]!.AsObject(), Is.Empty);
    }

    [Test]
    public async Task AStrategyOnlyUserGetsTheStrategysIndustryAndNoOnboardingData()
    {
        using var client = Testing.CreateClient();
        await InsertStrategyAsync("strategy-only", "Only");

        var data = (await GetAsync(client, "strategy-only"))["data"]!;

        Assert.That(data["onboarding_data"], Is.Null);
        Assert.That(data["industry"]!.GetValue<string>(), Is.EqualTo("technology"));
        Assert.That(data["strategy_data"]!["resolution"]!.GetValue<string>(), Is.EqualTo("fallback_most_recent"));
        Assert.That(Strings(data["data_quality"]!["missing_sections"]!),
            Is.EqualTo(new[] { "onboarding_data", "gap_analysis", "recommendations_data", "performance_data" }));
    }

    [Test]
    public async Task AGapAnalysisWhoseResultsAreNotAnObjectContributesNoGapsAndBreaksNothing()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("odd-gaps");
        await InsertGapAnalysisAsync("odd-gaps", """["kept"]""", daysAgo: 1);
        // The gap-analysis slice takes analysis_results as any JSON.
        await Testing.ExecuteAsync("""
            INSERT INTO content_gap_analyses (user_id, website_url, analysis_results, recommendations)
            VALUES ('odd-gaps', 'https://example.com', '["not", "an", "object"]', '["still read"]'),
                   ('odd-gaps', 'https://example.com', '"just text"', NULL)
            """);

        var data = (await GetAsync(client, "odd-gaps"))["data"]!;

        Assert.That(Strings(data["gap_analysis"]!["content_gaps"]!), Is.EqualTo(new[] { "kept" }));
        Assert.That(Strings(data["gap_analysis"]!["recommendations"]!), Is.EqualTo(new[] { "still read", "publish case studies" }));
    }

    [Test]
    public async Task PlatformPreferencesWhoseValuesAreNotObjectsGetTheDefaults()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("odd-platforms");
        // The profile slice takes platform_preferences as any JSON object.
        await Testing.ExecuteAsync("""
            UPDATE user_profiles SET platform_preferences = '{"linkedin": "high", "youtube": {"priority": "low"}}' WHERE user_id = 'odd-platforms'
            """);

        var preferences = (await GetAsync(client, "odd-platforms"))["data"]!["platform_preferences"]!;

        Assert.That(preferences["youtube"]!["priority"]!.GetValue<string>(), Is.EqualTo("low"));
        Assert.That(preferences["linkedin"]!["priority"]!.GetValue<string>(), Is.EqualTo("medium"));
        Assert.That(preferences["linkedin"]!["content_focus"]!.GetValue<string>(), Is.EqualTo("general"));
        Assert.That(preferences["linkedin"]!["posting_frequency"]!.GetValue<string>(), Is.EqualTo("4/week"));
    }

    [Test]
    public async Task PostingPreferencesThatAreNotAnObjectAreReadAsUnset()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("odd-posting", postingPreferences: """["daily"]""");

        var data = (await GetAsync(client, "odd-posting"))["data"]!;

        Assert.That(data["onboarding_data"]!["posting_preferences"]!.ToJsonString(), Is.EqualTo("""{"daily":null,"weekly":null,"monthly":null}"""));
        Assert.That(data["platform_preferences"]!["linkedin"]!["posting_frequency"]!.GetValue<string>(), Is.EqualTo("weekly"));
    }

    [TestCase("", TestName = "Missing user_id")]
    [TestCase("?user_id=", TestName = "Empty user_id")]
    [TestCase("?user_id=bad%20id!", TestName = "user_id with forbidden characters")]
    [TestCase("?user_id=u&strategy_id=0", TestName = "strategy_id zero")]
    [TestCase("?user_id=u&strategy_id=abc", TestName = "strategy_id not a number")]
    [TestCase("?user_id=u&force_refresh=maybe", TestName = "force_refresh not a boolean")]
    public async Task BadInputIs400ProblemDetails(string query)
    {
        await InsertProfileAsync("u");
        using var client = Testing.CreateClient();

        using var response = await client.GetAsync(UserDataPath + query);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest), await response.Content.ReadAsStringAsync());
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
    }

    [Test]
    public async Task AUserIdLongerThan128CharactersIs400()
    {
        using var client = Testing.CreateClient();

        using var response = await client.GetAsync(Url(new string('u', 129)));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.BadRequest));
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.That(problem["errors"]!["user_id"], Is.Not.Null);
    }

    [Test]
    public async Task AUserWithNeitherProfileNorStrategyIs404()
    {
        using var client = Testing.CreateClient();
        await InsertGapAnalysisAsync("nobody");

        using var response = await client.GetAsync(Url("nobody"));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("application/problem+json"));
        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM comprehensive_user_data_cache"), Is.Zero);
    }

    [Test]
    public async Task AnotherUsersStrategyIs404AndRevealsNothing()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("owner");
        await InsertProfileAsync("intruder");
        var owners = await InsertStrategyAsync("owner", "Secret plan");
        var own = await InsertStrategyAsync("intruder", "Own plan");

        using var response = await client.GetAsync(Url("intruder", owners));
        var body = await response.Content.ReadAsStringAsync();
        var ownAnswer = await GetAsync(client, "intruder", own);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        Assert.That(body, Does.Not.Contain("Secret plan"));
        Assert.That(ownAnswer["data"]!["strategy_data"]!["strategy"]!["name"]!.GetValue<string>(), Is.EqualTo("Own plan"));
    }

    [Test]
    public async Task AStrategyIdThatDoesNotExistIs404()
    {
        using var client = Testing.CreateClient();
        await InsertProfileAsync("lonely");

        using var response = await client.GetAsync(Url("lonely", 999_999));

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
    }

    private static string[] Strings(JsonNode array) => array.AsArray().Select(n => n!.GetValue<string>()).ToArray();
}
