using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// Admits a request to an admin route when its <c>X-Admin-Key</c> header equals <c>Admin__ApiKey</c> (constant-time
/// compare) or its bearer token carries <see cref="Scopes.Admin"/>. Operators' scripts keep using the key; a valid token
/// without the admin scope and without a key is a 403, anything else a 401.
/// </summary>
public sealed class AdminKeyCheck(IOptions<AdminOptions> options)
{
    public const string HeaderName = "X-Admin-Key";

    // Hashing both sides first makes the comparison constant-time in the key's length too.
    private readonly byte[]? _expectedHash = options.Value.ApiKey is { Length: > 0 } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;

    /// <summary>Null when the request may call the admin route; else the problem to answer.</summary>
    public IResult? Refusal(HttpContext http)
    {
        var supplied = http.Request.Headers[HeaderName].ToString();
        if (supplied.Length > 0 && KeyMatches(supplied))
        {
            return null;
        }

        var authenticated = http.User.Identity?.IsAuthenticated == true;
        if (authenticated && http.User.Has(Scopes.Admin))
        {
            return null;
        }

        if (authenticated && supplied.Length == 0)
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: $"This endpoint requires the {Scopes.Admin} scope or the {HeaderName} header.");
        }

        http.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Unauthorized",
            detail: $"This endpoint requires the {HeaderName} header with the configured admin key, or a bearer token with the {Scopes.Admin} scope.");
    }

    /// <summary>Whether <paramref name="supplied"/> is the configured admin key (constant-time).</summary>
    public bool KeyMatches(string supplied) =>
        _expectedHash is not null && CryptographicOperations.FixedTimeEquals(_expectedHash, SHA256.HashData(Encoding.UTF8.GetBytes(supplied)));
}

/// <summary>Marks an admin route: the scope-by-method policy leaves it to <see cref="AdminKeyCheck"/>.</summary>
public sealed class AdminRouteMetadata
{
    public static readonly AdminRouteMetadata Instance = new();
}

public static class AdminKeyExtensions
{
    /// <summary>Protects every endpoint of the group or route with <see cref="AdminKeyCheck"/> (see <see cref="UseAdminKey"/>).</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(AdminRouteMetadata.Instance)
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]))
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]));

    public static IServiceCollection AddAdminKey(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AdminKeyCheck>();
        return services;
    }

    /// <summary>
    /// Checks admin routes in the pipeline, before the endpoint binds its parameters: a caller without the key or the
    /// admin scope gets 401/403, never a 400 about a body it had no right to send.
    /// </summary>
    public static IApplicationBuilder UseAdminKey(this IApplicationBuilder app) => app.Use(static (http, next) =>
        // Not an async lambda: every other route passes straight on, without a state machine of its own.
        http.GetEndpoint()?.Metadata.GetMetadata<AdminRouteMetadata>() is not null
            && http.RequestServices.GetRequiredService<AdminKeyCheck>().Refusal(http) is { } refusal
            ? refusal.ExecuteAsync(http)
            : next(http));
}
