using Microsoft.Extensions.Logging;

namespace ContentPlanning.Caching;

internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning,
        Message = "Cache {CacheName}: Redis {Operation} failed; L2 and backplane paused for {BreakDuration}")]
    public static partial void RedisFailed(ILogger logger, string cacheName, string operation, TimeSpan breakDuration, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning,
        Message = "Cache {CacheName}: the L2 value of key {Key} is corrupt or of a foreign format; treated as a miss")]
    public static partial void CorruptDistributedValue(ILogger logger, string cacheName, string key, Exception? exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Tiered cache runs L1-only: no Redis connection string (ConnectionStrings:Redis) is configured")]
    public static partial void MemoryOnly(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Redis connection lost ({FailureType}) to {EndPoint}")]
    public static partial void ConnectionLost(ILogger logger, string failureType, string endPoint, Exception? exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Redis connection restored to {EndPoint}")]
    public static partial void ConnectionRestored(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information,
        Message = "Cache {CacheName}: Redis is back; {Count} queued operations replayed, L1 entries from before the outage expired")]
    public static partial void Replayed(ILogger logger, string cacheName, int count);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning,
        Message = "Cache {CacheName}: the outage queue is full ({Limit}); dropping the operation for {Key}")]
    public static partial void ReplayQueueFull(ILogger logger, string cacheName, int limit, string key);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Cache {CacheName}: background factory for key {Key} failed")]
    public static partial void BackgroundFactoryFailed(ILogger logger, string cacheName, string key, Exception exception);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Cache {CacheName}: ignoring a malformed backplane message")]
    public static partial void MalformedBackplaneMessage(ILogger logger, string cacheName);

    [LoggerMessage(EventId = 10, Level = LogLevel.Debug,
        Message = "Cache {CacheName}: the Redis pub/sub connection is not up yet; the backplane subscription will be retried")]
    public static partial void BackplaneNotSubscribed(ILogger logger, string cacheName);
}
