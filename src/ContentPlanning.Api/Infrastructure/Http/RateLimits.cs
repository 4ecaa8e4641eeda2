using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using System.Threading.RateLimiting;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Caching;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;
using RedisRateLimiting;
using StackExchange.Redis;

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
/// ASP.NET Core's rate limiter, two named policies, counted in Redis so the limit holds for the whole cluster, not per
/// node. Calendar generation is limited per caller: the token's user (<c>Auth__UserIdClaim</c>) for an end user, the
/// token's subject for a service token, the client address without auth (behind a trusted proxy, the forwarded address:
/// see <see cref="ForwardedHeadersSetup"/>); the user_id in the body is not used, because the limiter runs before the
/// body is read. The admin warm route is limited per client address. A refusal is a 429 problem with <c>Retry-After</c>.
/// While Redis cannot be reached each node counts on its own with the same limit (<see cref="RedisOrLocalLimiter"/>):
/// at most N times the limit for N nodes during an outage, never unlimited and never an error.
/// </summary>
public static class RateLimits
{
    public const string CalendarGeneration = "calendar-generation";
    public const string CacheWarm = "cache-warm";

    public static IServiceCollection AddRateLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RateLimitOptions>().Bind(configuration.GetSection(RateLimitOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimiterOptions>().Configure<IOptions<RateLimitOptions>, IOptions<AuthOptions>, RedisConnection, ILoggerFactory>((limiter, limits, auth, redis, logs) =>
        {
            var logger = logs.CreateLogger(typeof(RateLimits).FullName!);
            limiter.AddPolicy(CalendarGeneration, http => PerMinute(CalendarGeneration + ":" + Caller(http, auth.Value.UserIdClaim), limits.Value.CalendarGenerationPerMinute, redis, logger));
            limiter.AddPolicy(CacheWarm, http => PerMinute(CacheWarm + ":client:" + http.Connection.RemoteIpAddress, limits.Value.CacheWarmPerMinute, redis, logger));
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

    private static RateLimitPartition<string> PerMinute(string key, int permits, RedisConnection redis, ILogger logger) =>
        RateLimitPartition.Get(key, k => new RedisOrLocalLimiter(k, permits, TimeSpan.FromMinutes(1), redis, logger));
}

/// <summary>
/// One partition's fixed window, counted in Redis (RedisRateLimiting's fixed window: one Lua script per request, keys
/// <c>rl:fw:{partition}</c>); when Redis is not configured or a command fails, the same window counted in this process.
/// </summary>
internal sealed partial class RedisOrLocalLimiter : RateLimiter
{
    private readonly string _partition;
    private readonly int _permits;
    private readonly TimeSpan _window;
    private readonly RedisConnection _redis;
    private readonly ILogger _logger;
    private readonly FixedWindowRateLimiter _local;
    private RateLimiter? _shared;
    private long _idleSince = System.Diagnostics.Stopwatch.GetTimestamp();

    public RedisOrLocalLimiter(string partition, int permits, TimeSpan window, RedisConnection redis, ILogger logger)
    {
        _partition = partition;
        _permits = permits;
        _window = window;
        _redis = redis;
        _logger = logger;
        _local = new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions { PermitLimit = permits, Window = window, QueueLimit = 0 });
    }

    // Idle only once the current window is over: the partitioned limiter drops idle partitions, and dropping one mid-window
    // would forget the per-node count while Redis is down.
    public override TimeSpan? IdleDuration =>
        System.Diagnostics.Stopwatch.GetElapsedTime(Interlocked.Read(ref _idleSince)) is var elapsed && elapsed > _window ? elapsed - _window : TimeSpan.Zero;

    public override RateLimiterStatistics? GetStatistics() => _local.GetStatistics();

    // The middleware tries this first and, when it is not acquired, awaits AcquireAsync: the Redis round trip is async only.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) => NotYet.Instance;

    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _idleSince, System.Diagnostics.Stopwatch.GetTimestamp());
        if (!_redis.IsConfigured)
        {
            return _local.AttemptAcquire(permitCount);
        }

        try
        {
            var shared = _shared;
            if (shared is null)
            {
                var multiplexer = await _redis.GetMultiplexerAsync();
                var created = new RedisFixedWindowRateLimiter<string>(_partition, new RedisFixedWindowRateLimiterOptions
                {
                    ConnectionMultiplexerFactory = () => multiplexer,
                    PermitLimit = _permits,
                    Window = _window,
                });
                shared = Interlocked.CompareExchange(ref _shared, created, null) ?? created;
                if (!ReferenceEquals(shared, created))
                {
                    await created.DisposeAsync();
                }
            }

            return await shared.AcquireAsync(permitCount, cancellationToken);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException or ObjectDisposedException)
        {
            LogFallback(_logger, _partition, ex.GetType().Name);
            return _local.AttemptAcquire(permitCount);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _local.Dispose();
            _shared?.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await _local.DisposeAsync();
        if (_shared is not null)
        {
            await _shared.DisposeAsync();
        }

        await base.DisposeAsyncCore();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rate limit {Partition} counted on this node only: Redis failed ({Error})")]
    private static partial void LogFallback(ILogger logger, string partition, string error);

    private sealed class NotYet : RateLimitLease
    {
        public static readonly NotYet Instance = new();

        public override bool IsAcquired => false;

        public override IEnumerable<string> MetadataNames => [];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = null;
            return false;
        }
    }
}
