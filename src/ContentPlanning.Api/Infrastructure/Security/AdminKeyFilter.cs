using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>Admits a request only when its <c>X-Admin-Key</c> header equals <c>Admin__ApiKey</c> (constant-time compare).</summary>
public sealed class AdminKeyFilter(IOptions<AdminOptions> options) : IEndpointFilter
{
    public const string HeaderName = "X-Admin-Key";

    // Hashing both sides first makes the comparison constant-time in the key's length too.
    private readonly byte[]? _expectedHash = options.Value.ApiKey is { Length: > 0 } key ? SHA256.HashData(Encoding.UTF8.GetBytes(key)) : null;

    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var supplied = context.HttpContext.Request.Headers[HeaderName].ToString();
        if (_expectedHash is null || supplied.Length == 0 ||
            !CryptographicOperations.FixedTimeEquals(_expectedHash, SHA256.HashData(Encoding.UTF8.GetBytes(supplied))))
        {
            return ValueTask.FromResult<object?>(TypedResults.Problem(
                statusCode: StatusCodes.Status401Unauthorized,
                title: "Unauthorized",
                detail: $"This endpoint requires the {HeaderName} header with the configured admin key."));
        }

        return next(context);
    }
}

public static class AdminKeyExtensions
{
    /// <summary>Protects every endpoint of the group or route with <see cref="AdminKeyFilter"/>.</summary>
    public static TBuilder RequireAdminKey<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter<TBuilder, AdminKeyFilter>()
            .WithMetadata(new ProducesResponseTypeMetadata(StatusCodes.Status401Unauthorized, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]));

    public static IServiceCollection AddAdminKey(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AdminOptions>().Bind(configuration.GetSection(AdminOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<AdminKeyFilter>();
        return services;
    }
}
