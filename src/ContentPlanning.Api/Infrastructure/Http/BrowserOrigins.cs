namespace ContentPlanning.Api.Infrastructure.Http;

/// <summary>
/// CORS for browser clients on other origins: only the origins in <c>Cors__AllowedOrigins</c> (none by default: no CORS
/// headers at all). Preflights are answered by the CORS middleware before authentication, so an <c>OPTIONS</c> never
/// needs a token. Bearer tokens and stream tickets travel in headers or the URL, never in cookies: no credentials mode.
/// </summary>
public static class BrowserOrigins
{
    public const string Section = "Cors";

    public static IServiceCollection AddBrowserOrigins(this IServiceCollection services, IConfiguration configuration)
    {
        var origins = ForwardedHeadersSettings.List(configuration.GetSection(Section + ":AllowedOrigins"));
        var invalid = origins.Where(o => !Uri.TryCreate(o, UriKind.Absolute, out var uri) || uri.AbsolutePath != "/" || o.EndsWith('/')).ToArray();
        if (invalid.Length > 0)
        {
            throw new InvalidOperationException($"Cors__AllowedOrigins must hold origins like https://app.example.com (scheme, host, port; no path): {string.Join(", ", invalid)}");
        }

        services.AddCors(cors =>
        {
            if (origins.Length > 0)
            {
                cors.AddDefaultPolicy(policy => policy
                    .WithOrigins(origins)
                    .WithMethods("GET", "POST", "PUT", "PATCH", "DELETE")
                    .WithHeaders("Authorization", "Content-Type", "Idempotency-Key", "Last-Event-ID")
                    .WithExposedHeaders("Location", "Retry-After", "Server-Timing")
                    .SetPreflightMaxAge(TimeSpan.FromMinutes(10)));
            }
        });
        return services;
    }
}
