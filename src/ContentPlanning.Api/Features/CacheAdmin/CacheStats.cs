using ContentPlanning.Api.Infrastructure.Hosting;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Caching;
using Dapper;
using MediatR;
using Microsoft.Extensions.Options;
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

    internal sealed class Handler(
        CacheCounters counters, CacheMemory memory, RedisConnection redis, IOptions<CacheSettings> settings, NodeIdentity node, NpgsqlDataSource dataSource) : IRequestHandler<Query, Response>
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
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var grid = await connection.QueryMultipleAsync(new CommandDefinition(Sql, cancellationToken: cancellationToken));
            var (total, expired) = await grid.ReadSingleAsync<(long, long)>();
            var mostAccessed = (await grid.ReadAsync<AccessedSnapshot>()).ToList();

            // Hits and misses count answers by their provenance (cache_info.source), not FusionCache's internal reads.
            var (hits, misses) = (counters.MemoryHits, counters.MemoryMisses);
            var lookups = hits + misses;
            var connected = redis.IsConnected;
            return new Response(
                node.Id,
                new MemoryStats(memory.Count, hits, misses, lookups == 0 ? 0 : Math.Round((double)hits / lookups, 4)),
                new RedisStats(connected, counters.RedisHits, redis.IsConfigured ? counters.RedisMisses : 0, counters.DistributedErrors),
                new BackplaneStats(connected && settings.Value.BackplaneEnabled, counters.BackplaneMessagesSent, counters.BackplaneMessagesReceived),
                counters.FailSafeActivations,
                counters.FactoryExecutions,
                new DatabaseStats(total, expired, total - expired, mostAccessed));
        }
    }

    internal static void Map(IEndpointRouteBuilder group) =>
        group.MapGet("/stats", (IMediator mediator, CancellationToken ct) => mediator.Send(new Query(), ct))
            .WithSummary("Cache counters of this node and the snapshot table (snapshot access counts are written every few seconds)");
}
