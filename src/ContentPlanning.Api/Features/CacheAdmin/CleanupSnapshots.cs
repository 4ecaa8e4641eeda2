using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using MediatR;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Features.CacheAdmin;

/// <summary>Deletes expired snapshot rows, on request and every CacheAdmin__CleanupInterval in the background.</summary>
public static class CleanupSnapshots
{
    public sealed record Command : IRequest<Response>, IAdminRequest;

    public sealed record Response(int DeletedCount);

    internal sealed class Handler(SnapshotCleaner cleaner) : IRequestHandler<Command, Response>
    {
        public async Task<Response> Handle(Command request, CancellationToken cancellationToken) =>
            new(await cleaner.CleanAsync(waitForOtherNodes: true, cancellationToken) ?? 0);
    }

    internal static void Map(IEndpointRouteBuilder group) =>
        group.MapPost("/cleanup", (IMediator mediator, CancellationToken ct) => mediator.Send(new Command(), ct))
            .WithSummary("Delete expired comprehensive-data snapshot rows");
}

/// <summary>Deletes expired rows in batches under an advisory lock, so only one node cleans at a time.</summary>
internal sealed class SnapshotCleaner(NpgsqlDataSource dataSource, IOptions<CacheAdminOptions> options)
{
    private const long LockKey = 0x43505F434C4E; // "CP_CLN"

    private const string DeleteBatchSql = """
        DELETE FROM comprehensive_user_data_cache
        WHERE id IN (SELECT id FROM comprehensive_user_data_cache WHERE expires_at <= now() ORDER BY expires_at LIMIT @BatchSize FOR UPDATE SKIP LOCKED)
        """;

    /// <summary>Rows deleted, or null when another node holds the lock and <paramref name="waitForOtherNodes"/> is false.</summary>
    public async Task<int?> CleanAsync(bool waitForOtherNodes, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (waitForOtherNodes)
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: cancellationToken));
        }
        else if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: cancellationToken)))
        {
            return null;
        }

        try
        {
            var total = 0;
            int deleted;
            do
            {
                deleted = await connection.ExecuteAsync(new CommandDefinition(DeleteBatchSql, new { BatchSize = options.Value.CleanupBatchSize }, cancellationToken: cancellationToken));
                total += deleted;
            }
            while (deleted == options.Value.CleanupBatchSize);

            return total;
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@LockKey)", new { LockKey }, cancellationToken: CancellationToken.None));
        }
    }
}

internal sealed partial class SnapshotCleanupService(SnapshotCleaner cleaner, IOptions<CacheAdminOptions> options, ILogger<SnapshotCleanupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.CleanupInterval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.CleanupInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (await cleaner.CleanAsync(waitForOtherNodes: false, stoppingToken) is { } deleted)
                    {
                        LogCleaned(logger, deleted);
                    }
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    LogFailed(logger, ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot cleanup deleted {Deleted} expired rows")]
    private static partial void LogCleaned(ILogger logger, int deleted);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Snapshot cleanup failed; it runs again at the next interval")]
    private static partial void LogFailed(ILogger logger, Exception exception);
}
