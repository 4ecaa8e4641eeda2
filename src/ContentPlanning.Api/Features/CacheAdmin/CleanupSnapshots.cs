using ContentPlanning.Api.Infrastructure.Background;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
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

/// <summary>Deletes expired rows in batches, on one node at a time (a transaction-level advisory lock).</summary>
internal sealed class SnapshotCleaner(NpgsqlDataSource dataSource, IOptions<CacheAdminOptions> options)
{
    private const long LockKey = 0x43505F434C4E; // "CP_CLN"

    private const string DeleteBatchSql = """
        DELETE FROM comprehensive_user_data_cache
        WHERE id IN (SELECT id FROM comprehensive_user_data_cache WHERE expires_at <= now() ORDER BY expires_at LIMIT @BatchSize FOR UPDATE SKIP LOCKED)
        """;

    /// <summary>Rows deleted, or null when another node holds the lock and <paramref name="waitForOtherNodes"/> is false.</summary>
    public Task<int?> CleanAsync(bool waitForOtherNodes, CancellationToken cancellationToken) =>
        OneNodeAtATime.RunAsync<int?>(dataSource, LockKey, waitForOtherNodes, async (connection, transaction) =>
        {
            var total = 0;
            int deleted;
            do
            {
                deleted = await connection.ExecuteAsync(new CommandDefinition(DeleteBatchSql, new { BatchSize = options.Value.CleanupBatchSize }, transaction,
                    cancellationToken: cancellationToken));
                total += deleted;
            }
            while (deleted == options.Value.CleanupBatchSize);

            return total;
        }, cancellationToken);
}

/// <summary>Deletes expired snapshot rows every CacheAdmin__CleanupInterval (zero: never).</summary>
internal sealed partial class SnapshotCleanupService(SnapshotCleaner cleaner, IOptions<CacheAdminOptions> options, ILogger<SnapshotCleanupService> logger)
    : PeriodicWork(logger)
{
    protected override TimeSpan Interval => options.Value.CleanupInterval;

    protected override async Task RunAsync(CancellationToken cancellationToken)
    {
        if (await cleaner.CleanAsync(waitForOtherNodes: false, cancellationToken) is { } deleted)
        {
            LogCleaned(logger, deleted);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Snapshot cleanup deleted {Deleted} expired rows")]
    private static partial void LogCleaned(ILogger logger, int deleted);
}
