using System.Net;
using System.Security.Claims;
using ContentPlanning.Api.Infrastructure.Security;
using Hangfire;
using Hangfire.Dashboard;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// Hangfire's dashboard at <c>/hangfire</c> for operators, behind the admin key: scripts send the <c>X-Admin-Key</c>
/// header; a browser enters the key once in the form at <c>/hangfire-login</c> and gets a 30-minute session cookie
/// (ASP.NET Core cookie authentication; its key ring is shared by every node, and a changed admin key ends every
/// session). Every state-changing request needs an antiforgery token: the form's own, and the dashboard's (Hangfire
/// sends and checks it when antiforgery is registered).
/// </summary>
public static class JobsDashboard
{
    public const string Path = "/hangfire";

    public const string LoginPath = "/hangfire-login";

    public const string CookieName = "cp_hangfire";

    public const string Policy = "JobsDashboard";

    public static readonly TimeSpan CookieLifetime = TimeSpan.FromMinutes(30);

    // The session cookie, and the scheme that picks it or the admin key by what the request carries.
    private const string CookieScheme = "JobsDashboardCookie";

    private const string Scheme = "JobsDashboard";

    public static readonly DashboardOptions Options = new()
    {
        DashboardTitle = "Content Planning jobs",
        DisplayStorageConnectionString = false,
        AppPath = null,
        Authorization = [new AdminOnly()],
    };

    public static IServiceCollection AddJobsDashboard(this IServiceCollection services)
    {
        services.AddAntiforgery();
        services.AddSharedDataProtection();
        services.AddAuthentication()
            .AddPolicyScheme(Scheme, null, o => o.ForwardDefaultSelector = http =>
                http.Request.Headers.ContainsKey(AdminAccess.HeaderName) ? AdminAccess.Scheme : CookieScheme)
            .AddCookie(CookieScheme, o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.Path = Path;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = CookieLifetime;
                o.SlidingExpiration = false;
                o.LoginPath = LoginPath;
                o.Events.OnRedirectToLogin = RedirectToLoginAsync;
                o.Events.OnRedirectToAccessDenied = RefuseAsync;
                o.Events.OnValidatePrincipal = EndSessionsOfAnOldKeyAsync;
            });
        services.AddAuthorizationBuilder().AddPolicy(Policy, p => p.AddAuthenticationSchemes(Scheme).RequireAssertion(c => AdminAccess.IsAdmin(c.User)));
        return services;
    }

    /// <summary>The sign-in form and a 405 for the one dashboard URL README once showed with GET (Hangfire's stats are a POST).</summary>
    public static IEndpointRouteBuilder MapJobsDashboardSignIn(this IEndpointRouteBuilder app)
    {
        app.MapGet(LoginPath, (HttpContext http, IAntiforgery antiforgery) => Form(http, antiforgery, wrongKey: false)).AllowAnonymous().ExcludeFromDescription();
        app.MapPost(LoginPath, SignInAsync).AllowAnonymous().ExcludeFromDescription();
        app.MapGet(Path + "/stats", () => TypedResults.Problem(statusCode: StatusCodes.Status405MethodNotAllowed, title: "Method not allowed",
                detail: "The dashboard's statistics are a POST of the dashboard page (with its antiforgery token); open /hangfire in a browser, or GET a page such as /hangfire/jobs/failed."))
            .RequireAuthorization(Policy).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext http, [FromForm(Name = "key")] string? key, IOptions<AdminOptions> admin, IAntiforgery antiforgery)
    {
        if (key is null || !AdminAccess.KeyMatches(admin.Value.ApiKey, key))
        {
            return Form(http, antiforgery, wrongKey: true);
        }

        var identity = new ClaimsIdentity([new Claim(AdminAccess.KeyClaim, AdminAccess.KeyFingerprint(admin.Value.ApiKey)!)], CookieScheme);
        await http.SignInAsync(CookieScheme, new ClaimsPrincipal(identity));
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Redirect(Path);
    }

    private static ContentHttpResult Form(HttpContext http, IAntiforgery antiforgery, bool wrongKey)
    {
        var token = WebUtility.HtmlEncode(antiforgery.GetAndStoreTokens(http).RequestToken);
        var wrong = wrongKey ? "<p role=\"alert\">That is not the admin key.</p>" : "";
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Content($"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>Content Planning jobs: sign in</title></head>
            <body>
            <h1>Content Planning jobs dashboard</h1>
            {wrong}
            <form method="post" action="{LoginPath}">
              <input type="hidden" name="__RequestVerificationToken" value="{token}">
              <label>Admin key <input type="password" name="key" autocomplete="off" required></label>
              <button type="submit">Open the dashboard</button>
            </form>
            <p>The session lasts {CookieLifetime.TotalMinutes:0} minutes.</p>
            </body></html>
            """, "text/html; charset=utf-8", statusCode: wrongKey ? StatusCodes.Status401Unauthorized : StatusCodes.Status200OK);
    }

    // A browser asking for a page goes to the sign-in form; anything else (scripts, the dashboard's own polling) gets a problem.
    private static Task RedirectToLoginAsync(RedirectContext<CookieAuthenticationOptions> context)
    {
        var http = context.HttpContext;
        if (HttpMethods.IsGet(http.Request.Method) && http.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.Ordinal))
        {
            http.Response.Redirect(LoginPath);
            return Task.CompletedTask;
        }

        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
            detail: $"The dashboard needs the {AdminAccess.HeaderName} header or a session from {LoginPath}.").ExecuteAsync(http);
    }

    private static Task RefuseAsync(RedirectContext<CookieAuthenticationOptions> context) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: "This session may not open the dashboard.")
            .ExecuteAsync(context.HttpContext);

    private static Task EndSessionsOfAnOldKeyAsync(CookieValidatePrincipalContext context)
    {
        var current = AdminAccess.KeyFingerprint(context.HttpContext.RequestServices.GetRequiredService<IOptions<AdminOptions>>().Value.ApiKey);
        if (current is null || context.Principal?.FindFirstValue(AdminAccess.KeyClaim) != current)
        {
            context.RejectPrincipal();
        }

        return Task.CompletedTask;
    }

    /// <summary>Hangfire's own check, behind the endpoint's policy: the caller is an admin.</summary>
    private sealed class AdminOnly : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => AdminAccess.IsAdmin(context.GetHttpContext().User);
    }
}
