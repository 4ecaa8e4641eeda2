using System.Diagnostics.Metrics;
using System.Net.Sockets;
using ContentPlanning.Api.Infrastructure.Telemetry;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>
/// Recognises a database failure that a second try on a new connection would not meet, and where the first try left
/// nothing behind: pooled connections whose server sessions died while idle (terminated, PostgreSQL restarted, a pooler
/// recycled them) fail on their next use although the database is up.
/// </summary>
public static partial class BrokenConnection
{
    private static readonly Counter<long> Retries = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.database.retries", description: "Operations run a second time on a new connection after a broken one");

    /// <summary>
    /// True when nothing the failed try sent can have been committed, for a read or for a write:
    /// the connection could not be opened, or the server ended the session (57P01 admin shutdown, 57P02 crash shutdown,
    /// 57P03 cannot connect now) instead of answering, which rolls back whatever transaction it had open. A connection that
    /// broke mid-answer (I/O error) leaves a write in doubt, so only a read counts it (<paramref name="readOnly"/>).
    /// </summary>
    public static bool LeftNothingCommitted(Exception exception, bool readOnly)
    {
        for (var ex = exception; ex is not null; ex = ex.InnerException)
        {
            switch (ex)
            {
                case PostgresException { SqlState: PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow }:
                    return true;
                case PostgresException:
                    return false;
                case NpgsqlException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.ConnectionReset } }:
                    return true;
                case NpgsqlException { InnerException: IOException or EndOfStreamException or SocketException } when readOnly:
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Runs <paramref name="operation"/> with <paramref name="state"/>; if it fails on a broken connection having left
    /// nothing committed, drops the pool's idle connections (they most likely died the same way) and runs it once more.
    /// An operation that completes at once and succeeds costs nothing more (no state machine, no closure: pass a static
    /// lambda and its state).
    /// </summary>
    public static Task<T> RetryOnceAsync<TState, T>(NpgsqlDataSource dataSource, bool readOnly, TState state, Func<TState, Task<T>> operation,
        ILogger logger, string what, CancellationToken cancellationToken)
    {
        Task<T> first;
        try
        {
            first = operation(state);
        }
        catch (Exception ex)
        {
            first = Task.FromException<T>(ex);
        }

        return first.IsCompletedSuccessfully ? first : RetryIfBrokenAsync(first, dataSource, readOnly, state, operation, logger, what, cancellationToken);
    }

    private static async Task<T> RetryIfBrokenAsync<TState, T>(Task<T> first, NpgsqlDataSource dataSource, bool readOnly, TState state,
        Func<TState, Task<T>> operation, ILogger logger, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await first;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && System.Transactions.Transaction.Current is null
                                   && LeftNothingCommitted(ex, readOnly))
        {
            dataSource.Clear();
            Retries.Add(1, new KeyValuePair<string, object?>("operation", what));
            Log.Retrying(logger, what, ex.Message);
            return await operation(state);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "{Operation} met a broken database connection ({Detail}); running it again on a new connection")]
        public static partial void Retrying(ILogger logger, string operation, string detail);
    }
}
