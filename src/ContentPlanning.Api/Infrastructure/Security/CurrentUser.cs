using System.Security.Claims;
using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// Who the request acts for, read once per request (a scoped service) from its token. An end user's token is
/// <see cref="IsRestricted"/>: it may act only for <see cref="Id"/> (null: the token names no user, so for nobody).
/// Not restricted: auth off, a service token with <see cref="Scopes.AnyUser"/>, or no HTTP request at all (the
/// command line, background work). Endpoints put <see cref="UserIdOr"/> into the requests they send; OwnershipBehavior
/// checks; handlers that read one object by id keep to <see cref="OwnerFilter"/> in their own query.
/// </summary>
public sealed class CurrentUser
{
    private CurrentUser(bool isRestricted, string? id) => (IsRestricted, Id) = (isRestricted, id);

    public bool IsRestricted { get; }

    public string? Id { get; }

    /// <summary>The user_id a request acts on: the one it names, else (an end user's token) the token's own.</summary>
    public string? UserIdOr(string? named) => string.IsNullOrEmpty(named) ? Id ?? named : named;

    /// <summary>For a handler's own query: the one owner whose rows it may touch, null when any owner's.</summary>
    public string? OwnerFilter => !IsRestricted ? null : Id ?? throw NoUser();

    internal static NotOwnedException NoUser() => new("The token names no user (claim missing); it may act for no user.");

    internal static CurrentUser From(HttpContext? http, AuthOptions options)
    {
        if (options.Disabled || http?.User is not { } user || user.Identity?.IsAuthenticated != true || user.Has(Scopes.AnyUser))
        {
            // An unauthenticated request never reaches a feature handler in jwt mode (the fallback policy stops it).
            return new CurrentUser(isRestricted: false, id: null);
        }

        return new CurrentUser(isRestricted: true, user.FindFirstValue(options.UserIdClaim));
    }
}
