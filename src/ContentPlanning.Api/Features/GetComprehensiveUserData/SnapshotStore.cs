using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Dapper;
using Npgsql;

namespace ContentPlanning.Api.Features.GetComprehensiveUserData;

/// <summary>
/// The persistent snapshot tier (comprehensive_user_data_cache): one row per user + strategy (null = resolved),
/// valid while unexpired AND its data_hash equals the hash of the user's current source version, which triggers bump
/// on every write to a source table, also writes made directly in SQL.
/// </summary>
internal sealed partial class SnapshotStore(SnapshotAccessRecorder accessRecorder, ILogger<SnapshotStore> logger)
{
    private static readonly JsonSerializerOptions Json = CreateJson();

    private const string ReadSql = """
        SELECT COALESCE((SELECT version FROM user_data_versions WHERE user_id = @UserId), 0) AS version,
               c.data_hash, c.comprehensive_data, c.created_at, c.expires_at
        FROM (SELECT 1) AS one
        LEFT JOIN comprehensive_user_data_cache c
               ON c.user_id = @UserId AND c.strategy_id IS NOT DISTINCT FROM @StrategyId
        """;

    private const string UpsertSql = """
        INSERT INTO comprehensive_user_data_cache AS c (user_id, strategy_id, data_hash, comprehensive_data, created_at, expires_at, last_accessed, access_count)
        SELECT @UserId, @StrategyId, @DataHash, @Data::jsonb, @CreatedAt, @ExpiresAt, @CreatedAt, 0
        WHERE @StrategyId::bigint IS NULL OR EXISTS (SELECT 1 FROM content_strategies WHERE id = @StrategyId)
        ON CONFLICT (user_id, strategy_id) DO UPDATE
           SET data_hash = EXCLUDED.data_hash, comprehensive_data = EXCLUDED.comprehensive_data,
               created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at
        """;

    public sealed record Lookup(long SourceVersion, string DataHash, ComprehensiveSnapshot? Valid);

    /// <summary>
    /// One round trip: the user's source version and the snapshot row, returned (and counted as an access) only if it is
    /// still valid and <paramref name="useSnapshot"/> (false for a forced refresh, which needs only the version).
    /// </summary>
    public async Task<Lookup> ReadAsync(NpgsqlConnection connection, string userId, long? strategyId, DateTimeOffset now, bool useSnapshot, CancellationToken cancellationToken)
    {
        var row = await connection.QuerySingleAsync<Row>(new CommandDefinition(ReadSql, new { UserId = userId, StrategyId = strategyId }, cancellationToken: cancellationToken));
        var hash = DataHash(userId, strategyId, row.Version);
        if (!useSnapshot || row.DataHash is null || row.ComprehensiveData is null || row.ExpiresAt <= now || row.DataHash != hash)
        {
            return new Lookup(row.Version, hash, null);
        }

        ComprehensiveData? data;
        try
        {
            data = JsonSerializer.Deserialize<ComprehensiveData>(row.ComprehensiveData, Json);
        }
        catch (JsonException ex)
        {
            // A row in a shape this version cannot read (e.g. written by an earlier one) is a miss; the assembly rewrites it.
            LogUnreadableSnapshot(logger, userId, strategyId, ex);
            data = null;
        }

        if (data is null)
        {
            return new Lookup(row.Version, hash, null);
        }

        accessRecorder.Record(userId, strategyId, now);
        return new Lookup(row.Version, hash, new ComprehensiveSnapshot(data, hash, row.CreatedAt!.Value, "database_snapshot"));
    }

    /// <summary>Upserts the row for this user + strategy (one row each).</summary>
    public Task WriteAsync(NpgsqlConnection connection, string userId, long? strategyId, ComprehensiveSnapshot snapshot, TimeSpan lifetime, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition(UpsertSql, new
        {
            UserId = userId,
            StrategyId = strategyId,
            snapshot.DataHash,
            Data = JsonSerializer.Serialize(snapshot.Data, Json),
            CreatedAt = snapshot.GeneratedAt,
            ExpiresAt = snapshot.GeneratedAt + lifetime,
        }, cancellationToken: cancellationToken));

    /// <summary>SHA-256 (hex) of the user, the strategy scope and the user's source version.</summary>
    public static string DataHash(string userId, long? strategyId, long version) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{userId}\n{strategyId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "resolved"}\n{version}")));

    private static JsonSerializerOptions CreateJson()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { RespectRequiredConstructorParameters = true };
        Infrastructure.Http.HttpExtensions.ConfigureJson(options);
        return options;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Snapshot of {UserId} (strategy {StrategyId}) is unreadable; reassembling")]
    private static partial void LogUnreadableSnapshot(ILogger logger, string userId, long? strategyId, Exception exception);

    private sealed record Row(long Version, string? DataHash, string? ComprehensiveData, DateTimeOffset? CreatedAt, DateTimeOffset? ExpiresAt);
}

/// <summary>
/// Counts snapshot hits in memory and writes last_accessed/access_count in one batched UPDATE every few seconds,
/// so a snapshot hit adds no write to the response path.
/// </summary>
internal sealed partial class SnapshotAccessRecorder(NpgsqlDataSource dataSource, ILogger<SnapshotAccessRecorder> logger) : BackgroundService
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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(FlushInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await FlushSafelyAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
        }

        await FlushSafelyAsync(CancellationToken.None);
    }

    private async Task FlushSafelyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await FlushAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // Access statistics are best effort: a database outage loses these counts, never a request.
            LogFlushFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not record snapshot accesses")]
    private static partial void LogFlushFailed(ILogger logger, Exception exception);
}
