using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using ContentPlanning.Api.Infrastructure.Security;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// Hangfire's dashboard at <c>/hangfire</c> for the SRE team, behind the admin key: either the <c>X-Admin-Key</c> header
/// (scripts, curl) or a short-lived cookie a browser gets from the form at <c>/hangfire-login</c> by entering the key
/// once. The cookie is an expiry signed with a key derived from the admin key, so every node accepts it and changing the
/// admin key revokes it.
/// </summary>
public static class HangfireDashboard
{
    public const string Path = "/hangfire";

    public const string LoginPath = "/hangfire-login";

    public const string CookieName = "cp_hangfire";

    public static readonly TimeSpan CookieLifetime = TimeSpan.FromMinutes(30);

    internal sealed class StartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Map(LoginPath, login => login.Run(LoginAsync));
            app.UseWhen(http => http.Request.Path.StartsWithSegments(Path), dashboard => dashboard.Use(async (http, nextStep) =>
            {
                if (Allowed(http))
                {
                    await nextStep(http);
                }
                else if (HttpMethods.IsGet(http.Request.Method) && http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal))
                {
                    http.Response.Redirect(LoginPath);
                }
                else
                {
                    await TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                        detail: $"The dashboard needs the {AdminKeyCheck.HeaderName} header or a session from {LoginPath}.").ExecuteAsync(http);
                }
            }));
            app.UseHangfireDashboard(Path, new DashboardOptions
            {
                DashboardTitle = "Content Planning jobs",
                DisplayStorageConnectionString = false,
                AppPath = null,
                Authorization = [new Access()],
            });
            next(app);
        };
    }

    /// <summary>Hangfire's own check, behind the middleware's (defence in depth).</summary>
    private sealed class Access : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => Allowed(context.GetHttpContext());
    }

    private static bool Allowed(HttpContext http)
    {
        var keys = http.RequestServices.GetRequiredService<AdminKeyCheck>();
        if (http.Request.Headers[AdminKeyCheck.HeaderName].ToString() is { Length: > 0 } supplied && keys.KeyMatches(supplied))
        {
            return true;
        }

        return http.Request.Cookies[CookieName] is { } cookie && CookieValid(http, cookie);
    }

    private static async Task LoginAsync(HttpContext http)
    {
        http.Response.Headers.CacheControl = "no-store";
        if (HttpMethods.IsPost(http.Request.Method) && http.Request.HasFormContentType)
        {
            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            if (form["key"].ToString() is { Length: > 0 } key && http.RequestServices.GetRequiredService<AdminKeyCheck>().KeyMatches(key))
            {
                var expires = DateTimeOffset.UtcNow.Add(CookieLifetime).ToUnixTimeSeconds();
                http.Response.Cookies.Append(CookieName, $"{expires}.{Signature(http, expires)}", new CookieOptions
                {
                    Path = Path,
                    HttpOnly = true,
                    Secure = http.Request.IsHttps,
                    SameSite = SameSiteMode.Strict,
                    MaxAge = CookieLifetime,
                });
                http.Response.StatusCode = StatusCodes.Status303SeeOther;
                http.Response.Headers.Location = Path;
                return;
            }

            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
        }

        http.Response.ContentType = "text/html; charset=utf-8";
        var wrong = http.Response.StatusCode == StatusCodes.Status401Unauthorized ? "<p role=\"alert\">That is not the admin key.</p>" : "";
        await http.Response.WriteAsync($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Content Planning jobs: sign in</title></head>
            <body>
            <h1>Content Planning jobs dashboard</h1>
            {wrong}
            <form method="post" action="{LoginPath}">
              <label>Admin key <input type="password" name="key" autocomplete="off" required></label>
              <button type="submit">Open the dashboard</button>
            </form>
            <p>The session lasts {CookieLifetime.TotalMinutes:0} minutes.</p>
            </body></html>
            """, http.RequestAborted);
    }

    private static bool CookieValid(HttpContext http, string cookie)
    {
        var dot = cookie.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || !long.TryParse(cookie.AsSpan(0, dot), NumberStyles.None, CultureInfo.InvariantCulture, out var expires)
            || expires < DateTimeOffset.UtcNow.ToUnixTimeSeconds())
        {
            return false;
        }

        var expected = Encoding.ASCII.GetBytes(Signature(http, expires));
        var supplied = Encoding.ASCII.GetBytes(cookie[(dot + 1)..]);
        return expected.Length > 1 && CryptographicOperations.FixedTimeEquals(expected, supplied);
    }

    private static string Signature(HttpContext http, long expires)
    {
        var adminKey = http.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey;
        if (adminKey is not { Length: > 0 })
        {
            return "";
        }

        var key = SHA256.HashData(Encoding.UTF8.GetBytes("hangfire-dashboard-cookie:" + adminKey));
        return Convert.ToBase64String(HMACSHA256.HashData(key, Encoding.ASCII.GetBytes(expires.ToString(CultureInfo.InvariantCulture))))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
