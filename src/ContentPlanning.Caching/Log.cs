using System.Net;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ContentPlanning.Caching;

internal static partial class Log
{
    [LoggerMessage(EventId = 3, Level = LogLevel.Information,
        Message = "Cache runs L1-only: no Redis connection string (ConnectionStrings:Redis) is configured")]
    public static partial void MemoryOnly(ILogger logger);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Redis connection lost ({FailureType}, {ConnectionType}) to {EndPoint}")]
    public static partial void ConnectionLost(ILogger logger, ConnectionFailureType failureType, ConnectionType connectionType, EndPoint? endPoint, Exception? exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Redis connection restored ({ConnectionType}) to {EndPoint}; this node's L1 entries are expired")]
    public static partial void ConnectionRestored(ILogger logger, ConnectionType connectionType, EndPoint? endPoint);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning,
        Message = "Redis primary changed from {Previous} to {Current}: writes the old primary acknowledged may be lost, every cached entry is expired on every node")]
    public static partial void PrimaryChanged(ILogger logger, string previous, string current);
}
