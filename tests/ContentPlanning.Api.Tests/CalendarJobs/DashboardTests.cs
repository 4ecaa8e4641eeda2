using System.Net;
using System.Text.RegularExpressions;
using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using static ContentPlanning.Api.Tests.CalendarJobs.CalendarJobTests;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarJobs;

/// <summary>The jobs dashboard over HTTP, as a browser session or a script sees it (Kestrel, real cookies).</summary>
public sealed partial class DashboardTests : DatabaseTest
{
    [Test]
    public async Task ADashboardActionWithoutTheAntiforgeryTokenIsRefusedAndDeletesNothing()
    {
        await SeedStrategyAsync("dash-csrf");
        await using var node = StartNode(out var root);
        using var api = node.CreateClient();
        await StartAsync(api, "dash-csrf");
        // The node runs no workers: the job waits in Hangfire's queue.
        var jobId = await Testing.ScalarAsync<long>("SELECT max(id) FROM hangfire.job");
        using var browser = await SignedInAsync(root);
        var delete = $"{root}/hangfire/jobs/actions/delete/{jobId}";

        // Another site's form posting with the victim's session cookie: no antiforgery token.
        using var noToken = new FormUrlEncodedContent([]);
        using (var forged = await browser.PostAsync(delete, noToken))
        {
            Assert.That(forged.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        }

        Assert.That(await Testing.ScalarAsync<string>("SELECT statename FROM hangfire.job WHERE id = @jobId", new { jobId }), Is.EqualTo("Enqueued"));

        // The dashboard's own page carries the token; with it the same action works.
        var page = await browser.GetStringAsync($"{root}/hangfire/jobs/enqueued");
        using var request = new HttpRequestMessage(HttpMethod.Post, delete) { Content = new FormUrlEncodedContent([]) };
        request.Headers.Add(CsrfHeader().Match(page).Groups[1].Value, WebUtility.HtmlDecode(CsrfToken().Match(page).Groups[1].Value));
        using (var genuine = await browser.SendAsync(request))
        {
            Assert.That(genuine.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        }

        Assert.That(await Testing.ScalarAsync<string>("SELECT statename FROM hangfire.job WHERE id = @jobId", new { jobId }), Is.EqualTo("Deleted"));
    }

    [Test]
    public async Task AMalformedSignInAndAGetOfTheStatsAreProblemsNot500s()
    {
        await using var node = StartNode(out var root);
        using var client = new HttpClient();

        using var multipart = new StringContent("--xyz\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nabc", System.Text.Encoding.UTF8);
        multipart.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse("multipart/form-data; boundary=xyz");
        using var malformed = await client.PostAsync(root + "/hangfire-login", multipart);
        await AssertProblemAsync(malformed, HttpStatusCode.BadRequest);

        using var stats = new HttpRequestMessage(HttpMethod.Get, root + "/hangfire/stats");
        stats.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
        using var get = await client.SendAsync(stats);
        await AssertProblemAsync(get, HttpStatusCode.MethodNotAllowed);

        // README's example: a script reads a dashboard page with the header.
        using var page = new HttpRequestMessage(HttpMethod.Get, root + "/hangfire/jobs/failed");
        page.Headers.Add("X-Admin-Key", ApiFactory.AdminKey);
        using var listed = await client.SendAsync(page);
        Assert.That(listed.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await listed.Content.ReadAsStringAsync(), Does.Contain("Content Planning jobs"));
    }

    [Test]
    public async Task ASignInWithoutTheFormsAntiforgeryTokenIsRefused()
    {
        await using var node = StartNode(out var root);
        using var client = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var keyOnly = new FormUrlEncodedContent([new("key", ApiFactory.AdminKey)]);
        using var response = await client.PostAsync(root + "/hangfire-login", keyOnly);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.That(response.Headers.TryGetValues("Set-Cookie", out var cookies) && cookies.Any(c => c.StartsWith("cp_hangfire=", StringComparison.Ordinal)), Is.False);
    }

    private static ApiFactory StartNode(out string root)
    {
        var node = new ApiFactory("dash-node", new Dictionary<string, string?> { ["CalendarJobs:WorkersPerNode"] = "0" });
        node.UseKestrel(0);
        node.StartServer();
        root = node.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return node;
    }

    /// <summary>A cookie-keeping client signed in through the form, as a browser would be.</summary>
    private static async Task<HttpClient> SignedInAsync(string root)
    {
        var browser = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false });
        var form = await browser.GetStringAsync(root + "/hangfire-login");
        var token = WebUtility.HtmlDecode(FormToken().Match(form).Groups[1].Value);
        using var fields = new FormUrlEncodedContent([new("key", ApiFactory.AdminKey), new("__RequestVerificationToken", token)]);
        using var signIn = await browser.PostAsync(root + "/hangfire-login", fields);
        Assert.That(signIn.StatusCode, Is.EqualTo(HttpStatusCode.Redirect), await signIn.Content.ReadAsStringAsync());
        return browser;
    }

    [GeneratedRegex("name=\"__RequestVerificationToken\" value=\"([^\"]+)\"")]
    private static partial Regex FormToken();

    [GeneratedRegex("<meta name=\"csrf-header\" content=\"([^\"]+)\"")]
    private static partial Regex CsrfHeader();

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]+)\"")]
    private static partial Regex CsrfToken();
}
