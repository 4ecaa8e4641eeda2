using Microsoft.Extensions.Logging;

namespace ContentPlanning.Caching;

internal static partial class Log
{
    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Tiered cache runs L1-only: no Redis connection string (ConnectionStrings:Redis) is configured")]
    public static partial void MemoryOnly(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Redis connection lost ({FailureType}) to {EndPoint}")]
    public static partial void ConnectionLost(ILogger logger, string failureType, string endPoint, Exception? exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Redis connection restored to {EndPoint}")]
    public static partial void ConnectionRestored(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Cache backplane: ignoring a malformed message on {Channel}")]
    public static partial void MalformedBackplaneMessage(ILogger logger, string channel, Exception? exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Cache backplane: handling a message on {Channel} failed")]
    public static partial void BackplaneHandlerFailed(ILogger logger, string channel, Exception exception);
}
