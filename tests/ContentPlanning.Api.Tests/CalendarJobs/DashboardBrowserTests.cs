using ContentPlanning.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static ContentPlanning.Api.Tests.CalendarJobs.CalendarJobTests;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.CalendarJobs;

/// <summary>Hangfire's dashboard in a real headless browser: Debian's chromium driven by Playwright (no downloaded browser).</summary>
public sealed class DashboardBrowserTests : DatabaseTest
{
    private const string Chromium = "/usr/bin/chromium";

    [Test]
    public async Task AnOperatorSignsInWithTheAdminKeyAndSeesAFinishedJob()
    {
        Assert.That(File.Exists(Chromium), "scripts/test.sh installs Debian's chromium");
        await SeedStrategyAsync("dash-1");
        await using var node = new ApiFactory("dash-node", new Dictionary<string, string?> { ["CalendarJobs:WorkersPerNode"] = "1" });
        node.UseKestrel(0);
        node.StartServer();
        var root = node.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var client = node.CreateClient();
        var sessionId = (await StartAsync(client, "dash-1")).GetProperty("session_id").GetString()!;
        await WaitForAsync(client, sessionId, j => j.GetProperty("status").GetString() == "completed");

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-dev-shm-usage"],
        });
        var page = await browser.NewPageAsync();

        // Without a session the dashboard sends the browser to the sign-in form; a wrong key stays there.
        await page.GotoAsync(root + "/hangfire");
        Assert.That(new Uri(page.Url).AbsolutePath, Is.EqualTo("/hangfire-login"));
        await page.FillAsync("input[name=key]", "not-the-admin-key");
        await page.ClickAsync("button[type=submit]");
        Assert.That(await page.InnerTextAsync("body"), Does.Contain("not the admin key"));

        await page.FillAsync("input[name=key]", ApiFactory.AdminKey);
        await page.ClickAsync("button[type=submit]");
        await page.WaitForURLAsync(url => new Uri(url).AbsolutePath.StartsWith("/hangfire", StringComparison.Ordinal) && !url.Contains("login", StringComparison.Ordinal));
        Assert.That(await page.TitleAsync(), Does.Contain("Content Planning jobs"));

        await page.GotoAsync(root + "/hangfire/jobs/succeeded");
        var listed = await page.InnerTextAsync("body");
        Assert.That(listed, Does.Contain("CalendarJobRunner"), "the finished job is listed as succeeded");

        // Scripts use the header instead; without either the dashboard's API answers 401.
        using var anonymous = new HttpClient();
        using var refused = await anonymous.GetAsync(root + "/hangfire/stats");
        Assert.That((int)refused.StatusCode, Is.EqualTo(401));
    }
}
