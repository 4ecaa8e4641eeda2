using ContentPlanning.Api.Infrastructure.Features;
using ContentPlanning.Caching;
using Dapper;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Features.CacheAdmin;

/// <summary>This node's cache counters and the snapshot table's state.</summary>
public static class CacheStats
{
    public sealed record Query : IRequest<Response>, IAdminRequest;

    public sealed record Response(
        string NodeId,
        MemoryStats Memory,
        RedisStats Redis,
        BackplaneStats Backplane,
        long FailSafeActivations,
        long FactoryExecutions,
        DatabaseStats Database);

    public sealed record MemoryStats(long Entries, long Hits, long Misses, double HitRatio);

    public sealed record RedisStats(bool Available, long Hits, long Misses, long Errors);

    public sealed record BackplaneStats(bool Connected, long MessagesSent, long MessagesReceived);

    public sealed record DatabaseStats(long TotalEntries, long ExpiredEntries, long ValidEntries, IReadOnlyList<AccessedSnapshot> MostAccessed);

    public sealed record AccessedSnapshot(string UserId, long? StrategyId, long AccessCount, DateTimeOffset LastAccessed);

    internal sealed class Handler(ITieredCache cache, NpgsqlDataSource dataSource) : IRequestHandler<Query, Response>
    {
        private const string Sql = """
            SELECT count(*) AS total, count(*) FILTER (WHERE expires_at <= now()) AS expired
            FROM comprehensive_user_data_cache;

            SELECT user_id, strategy_id, access_count, last_accessed
            FROM comprehensive_user_data_cache
            ORDER BY access_count DESC, last_accessed DESC, id
            LIMIT 5;
            """;

        public async Task<Response> Handle(Query request, CancellationToken cancellationToken)
        {
            var stats = cache.GetStatistics();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(Sql, cancellationToken: cancellationToken));
            var (total, expired) = await grid.ReadSingleAsync<(long, long)>();
            var mostAccessed = (await grid.ReadAsync<AccessedSnapshot>()).ToList();

            var lookups = stats.MemoryHits + stats.MemoryMisses;
            return new Response(
                stats.NodeId,
                new MemoryStats(stats.MemoryEntries, stats.MemoryHits, stats.MemoryMisses, lookups == 0 ? 0 : Math.Round((double)stats.MemoryHits / lookups, 4)),
                new RedisStats(stats.DistributedAvailable, stats.DistributedHits, stats.DistributedMisses, stats.DistributedErrors),
                new BackplaneStats(stats.BackplaneConnected, stats.BackplaneMessagesSent, stats.BackplaneMessagesReceived),
                stats.FailSafeActivations,
                stats.FactoryExecutions,
                new DatabaseStats(total, expired, total - expired, mostAccessed));
        }
    }

    internal static void Map(IEndpointRouteBuilder group) =>
        group.MapGet("/stats", (IMediator mediator, CancellationToken ct) => mediator.Send(new Query(), ct))
            .WithSummary("Cache counters of this node and the snapshot table (snapshot access counts are written every few seconds)");
}
