using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using ContentPlanning.Api.Infrastructure.Security;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Http;

/// <summary>Settings of the rate limits (section <c>RateLimiting</c>): requests per minute, per partition.</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Calendar generations per minute per caller (RateLimiting__CalendarGenerationPerMinute).</summary>
    [Range(1, 1_000_000)]
    public int CalendarGenerationPerMinute { get; set; } = 10;

    /// <summary>Admin warm requests per minute per client (RateLimiting__CacheWarmPerMinute).</summary>
    [Range(1, 1_000_000)]
    public int CacheWarmPerMinute { get; set; } = 5;
}

/// <summary>
/// ASP.NET Core's rate limiter, two named policies. Calendar generation is limited per caller: the token's user
/// (<c>Auth__UserIdClaim</c>) for an end user, the token's subject for a service token, the client address without
/// auth; the user_id in the body is not used, because the limiter runs before the body is read. The admin warm route is
/// limited per client address. A refusal is a 429 problem with <c>Retry-After</c>.
/// </summary>
public static class RateLimits
{
    public const string CalendarGeneration = "calendar-generation";
    public const string CacheWarm = "cache-warm";

    public static IServiceCollection AddRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, IOptions<AuthOptions>>((limiter, limits, auth) =>
        {
            limiter.AddPolicy(CalendarGeneration, http => PerMinute(Caller(http, auth.Value.UserIdClaim), limits.Value.CalendarGenerationPerMinute));
            limiter.AddPolicy(CacheWarm, http => PerMinute("client:" + http.Connection.RemoteIpAddress, limits.Value.CacheWarmPerMinute));
            limiter.OnRejected = async (context, ct) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    detail: $"This caller's limit for this route is reached; retry in {seconds} s.").ExecuteAsync(context.HttpContext);
            };
        });
        services.AddRateLimiter(_ => { });
        return services;
    }

    private static string Caller(HttpContext http, string userIdClaim) =>
        http.User.Identity?.IsAuthenticated == true
            ? "user:" + (http.User.FindFirstValue(userIdClaim) ?? http.User.FindFirstValue(ClaimTypes.NameIdentifier) ?? "token")
            : "client:" + http.Connection.RemoteIpAddress;

    private static RateLimitPartition<string> PerMinute(string key, int permits) =>
        RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = permits,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}
