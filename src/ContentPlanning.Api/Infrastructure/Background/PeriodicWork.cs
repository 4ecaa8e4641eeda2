using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Background;

/// <summary>
/// Work a slice repeats every <see cref="Interval"/> on every node (an interval of zero or less switches it off). For
/// work only one node at a time may do, the subclass runs it through <see cref="OneNodeAtATime"/>. A database failure is
/// logged and the work runs again at the next tick; <see cref="OnStoppingAsync"/> runs once more when the host stops.
/// </summary>
public abstract partial class PeriodicWork(ILogger logger) : BackgroundService
{
    protected abstract TimeSpan Interval { get; }

    protected abstract Task RunAsync(CancellationToken cancellationToken);

    /// <summary>What to do once at shutdown (nothing unless overridden).</summary>
    protected virtual Task OnStoppingAsync() => Task.CompletedTask;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await RunSafelyAsync(RunAsync, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }

        await RunSafelyAsync(_ => OnStoppingAsync(), CancellationToken.None);
    }

    private async Task RunSafelyAsync(Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        try
        {
            await work(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            LogFailed(logger, GetType().Name, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Work} failed; it runs again at the next interval")]
    private static partial void LogFailed(ILogger logger, string work, Exception exception);
}

/// <summary>
/// Runs a unit of work on one node at a time: in a transaction that first takes a transaction-level advisory lock
/// (released by the commit or rollback, so it works through PgBouncer's transaction pooling and never outlives its work).
/// </summary>
public static class OneNodeAtATime
{
    /// <summary>The work's result, or default when another node holds the lock and <paramref name="wait"/> is false.</summary>
    public static async Task<T?> RunAsync<T>(
        NpgsqlDataSource dataSource, long lockKey, bool wait, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand(wait ? "SELECT true FROM (SELECT pg_advisory_xact_lock($1)) AS held" : "SELECT pg_try_advisory_xact_lock($1)", connection, transaction))
        {
            take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = lockKey });
            // pg_advisory_xact_lock returns void: the outer select answers true once it holds the lock.
            if (await take.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return default;
            }
        }

        var result = await work(connection, transaction);
        await transaction.CommitAsync(cancellationToken);
        return result;
    }
}
