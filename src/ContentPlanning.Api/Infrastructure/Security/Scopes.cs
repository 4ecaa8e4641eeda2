using System.Security.Claims;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>The OAuth scopes of the API, read from <c>scope</c> (space-separated) or <c>scp</c> (either form).</summary>
public static class Scopes
{
    public const string Read = "content-planning.read";

    public const string Write = "content-planning.write";

    public const string Admin = "content-planning.admin";

    /// <summary>A service token that may act for any user_id; without it a token acts only for its own user.</summary>
    public const string AnyUser = "content-planning.any-user";

    public static bool Has(this ClaimsPrincipal user, string scope)
    {
        foreach (var claim in user.Claims)
        {
            // Entra ID sends "scp"; most providers send "scope"; some split them into one claim per scope.
            if (claim.Type is not ("scope" or "scp"))
            {
                continue;
            }

            foreach (var part in claim.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                if (string.Equals(part, scope, StringComparison.Ordinal))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>The scope a feature route needs: reads need read; writes and generation need write.</summary>
    public static string ForMethod(string method) =>
        HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) ? Read : Write;
}
