using System.Collections.Concurrent;
using System.Text.Json;
using ContentPlanning.Api.Infrastructure.Background;
using Dapper;
using Npgsql;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// The persistent snapshot tier (comprehensive_user_data_cache): one row per user + strategy (null = resolved),
/// valid while unexpired AND its data_hash equals the hash of the user's current source version, which triggers bump
/// on every write to a source table, also writes made directly in SQL. Validity is decided in the read batch
/// (<see cref="ComprehensiveDataAssembler"/>); this class opens serving rows and writes new ones.
/// </summary>
internal sealed partial class SnapshotStore(SnapshotAccessRecorder accessRecorder, ILogger<SnapshotStore> logger)
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    private const string UpsertSql = """
        INSERT INTO comprehensive_user_data_cache AS c (user_id, strategy_id, data_hash, comprehensive_data, created_at, expires_at, last_accessed, access_count)
        SELECT @UserId, @StrategyId, @DataHash, @Data::jsonb, @CreatedAt, @ExpiresAt, @CreatedAt, 0
        WHERE @StrategyId::bigint IS NULL OR EXISTS (SELECT 1 FROM content_strategies WHERE id = @StrategyId)
        ON CONFLICT (user_id, strategy_id) DO UPDATE
           SET data_hash = EXCLUDED.data_hash, comprehensive_data = EXCLUDED.comprehensive_data,
               created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        """;

    /// <summary>
    /// Opens a serving snapshot row and counts the access (written in the background). Null when the row does not read
    /// as comprehensive data (e.g. written by an earlier version): the caller then assembles and rewrites it.
    /// </summary>
    public ComprehensiveSnapshot? Open(string userId, long? strategyId, string dataHash, ComprehensiveDataAssembler.SnapshotRow row, DateTimeOffset now)
    {
        ComprehensiveData? data;
        try
        {
            data = JsonSerializer.Deserialize<ComprehensiveData>(row.ComprehensiveData, Json);
        }
        catch (JsonException ex)
        {
            LogUnreadableSnapshot(logger, userId, strategyId, ex);
            return null;
        }

        if (data is null)
        {
            return null;
        }

        accessRecorder.Record(userId, strategyId, now);
        return new ComprehensiveSnapshot(data, dataHash, row.CreatedAt, "database_snapshot");
    }

    /// <summary>Upserts the row for this user + strategy (one row each).</summary>
    public static Task WriteAsync(NpgsqlConnection connection, string userId, long? strategyId, ComprehensiveSnapshot snapshot, TimeSpan lifetime, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(UpsertSql, new
        {
            UserId = userId,
            StrategyId = strategyId,
            snapshot.DataHash,
            Data = JsonSerializer.Serialize(snapshot.Data, Json),
            CreatedAt = snapshot.GeneratedAt,
            ExpiresAt = snapshot.GeneratedAt + lifetime,
        }, cancellationToken: cancellationToken));

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { RespectRequiredConstructorParameters = true };
        Infrastructure.Http.HttpExtensions.ConfigureJson(options);
        return options;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Snapshot of {UserId} (strategy {StrategyId}) is unreadable; reassembling")]
    private static partial void LogUnreadableSnapshot(ILogger logger, string userId, long? strategyId, Exception exception);

}

/// <summary>
/// Counts snapshot hits in memory and writes last_accessed/access_count in one batched UPDATE every few seconds,
/// so a snapshot hit adds no write to the response path.
/// </summary>
internal sealed class SnapshotAccessRecorder(NpgsqlDataSource dataSource, ILogger<SnapshotAccessRecorder> logger) : PeriodicWork(logger)
{
    private static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<(string UserId, long? StrategyId), Access> _pending = new();

    private sealed record Access(long Count, DateTimeOffset Last);

    private const string FlushSql = """
        UPDATE comprehensive_user_data_cache AS c
        SET access_count = c.access_count + u.hits, last_accessed = GREATEST(c.last_accessed, u.last)
        FROM unnest(@UserIds, @StrategyIds, @Hits, @Lasts) AS u(user_id, strategy_id, hits, last)
        WHERE c.user_id = u.user_id AND c.strategy_id IS NOT DISTINCT FROM u.strategy_id
        """;

    public void Record(string userId, long? strategyId, DateTimeOffset at) =>
        _pending.AddOrUpdate((userId, strategyId), new Access(1, at), (_, a) => new Access(a.Count + 1, at > a.Last ? at : a.Last));

    /// <summary>Writes what was recorded so far (also used by tests and at shutdown).</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        var batch = new List<((string UserId, long? StrategyId) Key, Access Access)>();
        foreach (var key in _pending.Keys)
        {
            if (_pending.TryRemove(key, out var access))
            {
                batch.Add((key, access));
            }
        }

        if (batch.Count == 0)
        {
            return;
        }

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await connection.ExecuteAsync(new CommandDefinition(FlushSql, new
        {
            UserIds = batch.Select(b => b.Key.UserId).ToArray(),
            StrategyIds = batch.Select(b => b.Key.StrategyId).ToArray(),
            Hits = batch.Select(b => b.Access.Count).ToArray(),
            Lasts = batch.Select(b => b.Access.Last.UtcDateTime).ToArray(),
        }, cancellationToken: cancellationToken));
    }

    // Access statistics are best effort: a database outage loses these counts (logged), never a request.
    protected override TimeSpan Interval => FlushInterval;

    protected override Task RunAsync(CancellationToken cancellationToken) => FlushAsync(cancellationToken);

    protected override Task OnStoppingAsync() => FlushAsync(CancellationToken.None);
}
