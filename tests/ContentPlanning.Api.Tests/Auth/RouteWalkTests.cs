using System.Net;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Auth;

/// <summary>
/// Walks every route the API maps under the feature prefix (so a route added later is walked too) and proves each one
/// refuses a missing token (401) and another user's data (404; 403 on the admin routes), while the owner gets through.
/// </summary>
public sealed class RouteWalkTests : DatabaseTest
{
    private sealed record Route(string Method, string Pattern, bool Admin);

    private static List<Route> Routes() =>
        Testing.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && raw.StartsWith(FeatureRegistration.RoutePrefix, StringComparison.Ordinal))
            // Routes the test host adds for fault injection, not part of the API.
            .Where(e => !e.RoutePattern.RawText!.Contains("/test/", StringComparison.Ordinal))
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m =>
                new Route(m, e.RoutePattern.RawText!, e.Metadata.GetMetadata<AdminRouteMetadata>() is not null)))
            .OrderBy(r => r.Method == "DELETE" ? 1 : 0) // the owner's deletes run last, after its reads
            .ThenBy(r => r.Pattern, StringComparer.Ordinal)
            .ToList();

    [Test]
    public void OnlyTheHealthProbesUnderThePrefixAreOpen()
    {
        var open = Testing.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith(FeatureRegistration.RoutePrefix, StringComparison.Ordinal) == true)
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is not null)
            .Select(e => e.RoutePattern.RawText)
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.That(open, Is.EqualTo(new[] { FeatureRegistration.RoutePrefix + "/database/health", FeatureRegistration.RoutePrefix + "/health" }));
    }

    [Test]
    public async Task EveryRouteRefusesAMissingTokenAndAnotherUsersData()
    {
        var ids = await SeedBobAsync();
        var routes = Routes();
        Assert.That(routes, Has.Count.GreaterThanOrEqualTo(30), "the walk found too few routes");
        using var anonymous = Testing.Factory.CreateAnonymousClient();
        using var mallory = Testing.Factory.CreateClient(Tokens.User("mallory"));
        using var bob = Testing.Factory.CreateClient(Tokens.User("bob"));

        var failures = new List<string>();
        foreach (var route in routes)
        {
            using (var request = Request(route, ids))
            using (var response = await anonymous.SendAsync(request))
            {
                Expect(route, "no token", response, HttpStatusCode.Unauthorized);
            }

            using (var request = Request(route, ids))
            using (var response = await mallory.SendAsync(request))
            {
                Expect(route, "another user", response, route.Admin ? HttpStatusCode.Forbidden : HttpStatusCode.NotFound);
            }
        }

        foreach (var route in routes.Where(r => !r.Admin))
        {
            using var request = Request(route, ids);
            using var response = await bob.SendAsync(request);
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden or HttpStatusCode.NotFound)
            {
                failures.Add($"{route.Method} {route.Pattern} as the owner: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        Assert.That(failures, Is.Empty);

        void Expect(Route route, string who, HttpResponseMessage response, HttpStatusCode expected)
        {
            if (response.StatusCode != expected || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
            {
                failures.Add($"{route.Method} {route.Pattern} with {who}: {(int)response.StatusCode}, expected {(int)expected} problem");
            }
        }
    }

    private static HttpRequestMessage Request(Route route, Dictionary<string, long> ids)
    {
        var path = route.Pattern.Replace("{user_id}", "bob", StringComparison.Ordinal).Replace("{session_id}", BobsJob.ToString(), StringComparison.Ordinal);
        if (path.Contains("{id", StringComparison.Ordinal))
        {
            var collection = path[FeatureRegistration.RoutePrefix.Length..].Split('/', StringSplitOptions.RemoveEmptyEntries)[0];
            path = System.Text.RegularExpressions.Regex.Replace(path, @"\{id[^}]*\}", ids[collection].ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        var request = new HttpRequestMessage(new HttpMethod(route.Method), path + "?user_id=bob");
        if (route.Method is "POST" or "PUT" or "PATCH")
        {
            request.Content = Body("""{"user_id": "bob", "user_ids": ["bob"]}""");
        }

        return request;
    }

    /// <summary>Bob's finished calendar job (finished, so that its progress stream ends at once).</summary>
    private static readonly Guid BobsJob = Guid.Parse("0190f0d2-0000-7000-8000-00000000b0b0");

    private static async Task<Dictionary<string, long>> SeedBobAsync()
    {
        await Testing.ExecuteAsync("""
            INSERT INTO calendar_jobs (session_id, user_id, status, request, request_hash, finished_at)
            VALUES (@BobsJob, 'bob', 'completed', '{}', 'h', now())
            """, new { BobsJob });
        await GetComprehensiveUserData.ComprehensiveApi.InsertProfileAsync("bob");
        var strategy = await SeedStrategyAsync("bob");
        await Testing.ExecuteAsync("INSERT INTO strategy_activation_status (strategy_id, user_id, status) VALUES (@strategy, 'bob', 'active')", new { strategy });
        return new Dictionary<string, long>
        {
            ["strategies"] = strategy,
            ["gap-analysis"] = await Testing.ScalarAsync<long>("INSERT INTO content_gap_analyses (user_id, website_url) VALUES ('bob', 'https://bob.example') RETURNING id"),
            ["recommendations"] = await Testing.ScalarAsync<long>("INSERT INTO content_recommendations (user_id, strategy_id, recommendation_type, title) VALUES ('bob', @strategy, 'blog', 'T') RETURNING id", new { strategy }),
            ["calendars"] = await CalendarAsync(),
            ["calendar-events"] = await Testing.ScalarAsync<long>("INSERT INTO calendar_events (strategy_id, title, scheduled_at) VALUES (@strategy, 'E', now()) RETURNING id", new { strategy }),
            ["analytics"] = await Testing.ScalarAsync<long>("INSERT INTO content_analytics (user_id, strategy_id, platform) VALUES ('bob', @strategy, 'linkedin') RETURNING id", new { strategy }),
        };

        // A real calendar (generated), so that reading it answers what the document promises.
        async Task<long> CalendarAsync()
        {
            using var client = Testing.CreateClient();
            using var response = await client.PostJsonAsync(ApiRoot + "/calendar-generation/generate-calendar", """{"user_id": "bob", "calendar_type": "weekly"}""");
            return (await JsonAsync(response)).GetProperty("id").GetInt64();
        }
    }
}
