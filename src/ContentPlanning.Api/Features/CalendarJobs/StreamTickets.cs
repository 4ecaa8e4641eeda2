using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Caching;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// Short-lived, single-job stream tickets: a browser's <c>EventSource</c> cannot send a bearer token, so the start and
/// progress answers carry <c>stream_ticket</c> and the stream accepts <c>?ticket=</c> instead of a token. A ticket is 32
/// random bytes; Redis holds its SHA-256 (never the ticket) with the job and user it opens, for
/// <c>CalendarJobs__StreamTicketLifetime</c>, so every node accepts it. It is reusable within its lifetime (an
/// EventSource reconnects with the same URL), opens only that job's stream (read-only) and nothing else. Without Redis, or
/// with <c>Auth__Mode=none</c>, no ticket is issued (null).
/// </summary>
public sealed partial class StreamTickets(RedisConnection redis, IOptions<CalendarJobsOptions> jobs, IOptions<AuthOptions> auth, ILogger<StreamTickets> logger)
{
    public const string Scheme = "StreamTicket";
    public const string QueryName = "ticket";

    /// <summary>A ticket for <paramref name="job"/>'s stream, or null when tickets are not available (no Redis, auth off).</summary>
    public async Task<string?> IssueAsync(JobView job)
    {
        if (!redis.IsConfigured || auth.Value.Disabled)
        {
            return null;
        }

        var ticket = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        try
        {
            var database = (await redis.GetMultiplexerAsync()).GetDatabase();
            await database.StringSetAsync(Key(ticket), $"{job.SessionId:D}\n{job.UserId}", jobs.Value.StreamTicketLifetime);
            return ticket;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogNotIssued(logger, ex.GetType().Name);
            return null;
        }
    }

    /// <summary>The job and user a valid ticket opens, or null.</summary>
    internal async Task<(Guid SessionId, string UserId)?> RedeemAsync(string ticket)
    {
        if (!redis.IsConfigured || ticket.Length is < 40 or > 64)
        {
            return null;
        }

        var value = await (await redis.GetMultiplexerAsync()).GetDatabase().StringGetAsync(Key(ticket));
        return value.HasValue && value.ToString().Split('\n', 2) is [var session, var user] && Guid.TryParse(session, out var id) ? (id, user) : null;
    }

    private static RedisKey Key(string ticket) => "cp:stream-ticket:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(ticket)));

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Whether a request is a stream request that presents a ticket and no bearer token.</summary>
    internal static bool Presents(HttpRequest request) =>
        request.Query.ContainsKey(QueryName) && !request.Headers.ContainsKey("Authorization") && StreamSession(request.Path) is not null;

    /// <summary>The session id of a <c>.../calendar-generation/progress/{id}/stream</c> path, or null.</summary>
    internal static string? StreamSession(PathString path) =>
        path.StartsWithSegments(FeatureRegistration.RoutePrefix + "/calendar-generation/progress", out var rest)
        && rest.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) is [var session, "stream"] ? session : null;

    [LoggerMessage(Level = LogLevel.Warning, Message = "No stream ticket issued: Redis failed ({Error})")]
    private static partial void LogNotIssued(ILogger logger, string error);
}

/// <summary>
/// Authenticates a stream request by its ticket: the caller becomes the job's user with the read scope, for that one
/// stream URL (the bearer scheme forwards here only for stream requests that carry <c>?ticket=</c> and no token).
/// </summary>
internal sealed class StreamTicketHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, StreamTickets tickets, IOptions<AuthOptions> auth)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var session = StreamTickets.StreamSession(Request.Path);
        if (session is null || Request.Query[StreamTickets.QueryName].ToString() is not { Length: > 0 } ticket)
        {
            return AuthenticateResult.NoResult();
        }

        try
        {
            if (await tickets.RedeemAsync(ticket) is not { } granted || !Guid.TryParse(session, out var id) || granted.SessionId != id)
            {
                return AuthenticateResult.Fail("The stream ticket is unknown, expired, or for another job.");
            }

            var identity = new ClaimsIdentity(
                [new Claim(auth.Value.UserIdClaim, granted.UserId), new Claim("scope", Scopes.Read), new Claim("stream_session", session)],
                StreamTickets.Scheme, auth.Value.UserIdClaim, null);
            return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), StreamTickets.Scheme));
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            return AuthenticateResult.Fail("Stream tickets cannot be checked right now (Redis is unreachable).");
        }
    }
}

/// <summary>Registers the tickets and their scheme; the bearer scheme forwards to it for ticketed stream requests.</summary>
internal sealed class StreamTicketsModule : IServiceModule
{
    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton<StreamTickets>();
        services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, StreamTicketHandler>(StreamTickets.Scheme, null);
        services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
            jwt.ForwardDefaultSelector = http => StreamTickets.Presents(http.Request) ? StreamTickets.Scheme : null);
    }
}
