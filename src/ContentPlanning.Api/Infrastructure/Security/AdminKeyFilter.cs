using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// Admits a request to an admin route when its <c>X-Admin-Key</c> header equals <c>Admin__ApiKey</c> (constant-time
/// compare) or its bearer token carries <see cref="Scopes.Admin"/>. Operators' scripts keep using the key; a valid token
/// without the admin scope and without a key is a 403, anything else a 401.
/// </summary>
public sealed class AdminKeyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public const string HeaderName = "X-Admin-Key";

    // Hashing both sides first makes the comparison constant-time in the key's length too.
    private readonly byte[]? _expectedHash = options.Value.ApiKey is { Length: > 0 } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var supplied = http.Request.Headers[HeaderName].ToString();
        if (supplied.Length > 0 && KeyMatches(supplied))
        {
            return next(context);
        }

        var authenticated = http.User.Identity?.IsAuthenticated == true;
        if (authenticated && http.User.Has(Scopes.Admin))
        {
            return next(context);
        }

        if (authenticated && supplied.Length == 0)
        {
            return ValueTask.FromResult<object?>(TypedResults.Problem(
                statusCode: StatusCodes.Status403Forbidden,
                title: "Forbidden",
                detail: $"This endpoint requires the {Scopes.Admin} scope or the {HeaderName} header."));
        }

        http.Response.Headers.WWWAuthenticate = "Bearer";
        return ValueTask.FromResult<object?>(TypedResults.Problem(
            statusCode: StatusCodes.Status401Unauthorized,
            title: "Unauthorized",
            detail: $"This endpoint requires the {HeaderName} header with the configured admin key, or a bearer token with the {Scopes.Admin} scope."));
    }

    private bool KeyMatches(string supplied) =>
        _expectedHash is not null && CryptographicOperations.FixedTimeEquals(_expectedHash, SHA256.HashData(Encoding.UTF8.GetBytes(supplied)));
}

/// <summary>Marks an admin route: the scope-by-method policy leaves it to <see cref="AdminKeyFilter"/>.</summary>
public sealed class AdminRouteMetadata
{
    public static readonly AdminRouteMetadata Instance = new();
}

public static class AdminKeyExtensions
{
    /// <summary>Protects every endpoint of the group or route with <see cref="AdminKeyFilter"/>.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, AdminKeyFilter>()
            .WithMetadata(AdminRouteMetadata.Instance)
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]))
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status403Forbidden, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]));

    public static IServiceCollection AddAdminKey(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AdminKeyFilter>();
        return services;
    }
}
