using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Npgsql;
using static ContentPlanning.Api.Tests.Infrastructure.SourceData;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>
/// Steady reads of every seeded user's comprehensive data, spread over the nodes, four at a time. An answer begun more
/// than a grace period after an expected write committed must show it or say it is stale (else: stale-as-fresh).
/// </summary>
public sealed class ReadLoad(IReadOnlyList<HttpClient> nodes)
{
    /// <summary>How many users <see cref="SeedAsync"/> writes and the load reads.</summary>
    public const int Users = 12;

    public static string User(int i) => $"fault-user-{i}";

    public static string ReadUrl(string userId) => $"{ApiRoot}/calendar-generation/comprehensive-user-data?user_id={userId}";

    /// <summary>Users with a profile and an active strategy, written straight into the given database.</summary>
    public static async Task SeedAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            INSERT INTO user_profiles (user_id, industry) SELECT 'fault-user-' || i, 'seeded' FROM generate_series(1, @n) i;
            WITH s AS (INSERT INTO content_strategies (user_id, name, industry) SELECT 'fault-user-' || i, 'Plan', 'retail' FROM generate_series(1, @n) i RETURNING id, user_id)
            INSERT INTO strategy_activation_status (strategy_id, user_id, status) SELECT id, user_id, 'active' FROM s;
            """, connection);
        command.Parameters.AddWithValue("n", Users);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task PutIndustryAsync(HttpClient client, string userId, string industry)
    {
        using var response = await client.PutJsonAsync($"{ApiRoot}/users/{userId}/profile", $$"""{"industry": "{{industry}}"}""");
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
    }

    public static async Task<(string? Industry, bool IsStale)> ReadAsync(HttpClient client, string userId)
    {
        using var response = await client.GetAsync(ReadUrl(userId));
        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK), await response.Content.ReadAsStringAsync());
        var json = await JsonAsync(response);
        return (json.GetProperty("data").GetProperty("industry").GetString(), json.GetProperty("cache_info").GetProperty("is_stale").GetBoolean());
    }

    private readonly ConcurrentDictionary<string, (string Industry, TimeSpan FreshBy)> _expected = new();
    // Each value WriteAsync sends, numbered as sent: an answer showing a value sent after the expected one is not stale.
    private readonly ConcurrentDictionary<(string UserId, string Industry), long> _sentValues = new();
    private long _writes;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentDictionary<(int Node, string UserId), bool> _read = new();
    private long _sent;
    private long _failed;
    private long _checked;
    private long _staleAsFresh;
    private long _slowestTicks;

    public ConcurrentQueue<string> StaleAnswers { get; } = new();

    public long Checked => Interlocked.Read(ref _checked);

    public long StaleAsFresh => Interlocked.Read(ref _staleAsFresh);

    /// <summary>Called after the write's 200 (it has committed): answers begun after the grace must reflect it.</summary>
    public void Expect(string userId, string industry, TimeSpan grace) => _expected[userId] = (industry, _clock.Elapsed + grace);

    public ConcurrentQueue<string> Failures { get; } = new();

    public long Sent => Interlocked.Read(ref _sent);

    public long Failed => Interlocked.Read(ref _failed);

    /// <summary>
    /// A profile write counted with the load's requests: on its 200 (true), answers of that user begun more than
    /// <paramref name="grace"/> later (on any node) must show it or say they are stale.
    /// </summary>
    public async Task<bool> WriteAsync(HttpClient client, string userId, string industry, TimeSpan grace)
    {
        _sentValues[(userId, industry)] = Interlocked.Increment(ref _writes);
        try
        {
            using var response = await client.PutJsonAsync($"{ApiRoot}/users/{userId}/profile", $$"""{"industry": "{{industry}}"}""");
            Interlocked.Increment(ref _sent);
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Expect(userId, industry, grace);
                return true;
            }

            Interlocked.Increment(ref _failed);
            Failures.Enqueue($"write: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        catch (HttpRequestException ex)
        {
            Interlocked.Increment(ref _failed);
            Interlocked.Increment(ref _sent);
            Failures.Enqueue("write: " + ex.Message);
        }

        return false;
    }

    /// <summary>Whether every user has had a 200 from every node.</summary>
    public bool EachRead => _read.Count == Users * nodes.Count;

    /// <summary>
    /// Reads for the duration; with <paramref name="untilEachRead"/> also until every user had a 200 from every node
    /// (at most 30 s); <paramref name="stop"/> ends it early. Request i asks user i mod Users of node (i / Users) mod nodes, so every pair comes round.
    /// </summary>
    public async Task RunAsync(TimeSpan duration, bool untilEachRead = false, CancellationToken stop = default)
    {
        var until = Stopwatch.StartNew();
        bool Go() => !stop.IsCancellationRequested
                     && (until.Elapsed < duration || (untilEachRead && !EachRead && until.Elapsed < TimeSpan.FromSeconds(30)));
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async worker =>
        {
            for (var i = worker; Go(); i += 4)
            {
                var watch = Stopwatch.StartNew();
                var userId = User(i % Users + 1);
                var node = i / Users % nodes.Count;
                var begun = _clock.Elapsed;
                try
                {
                    using var response = await nodes[node].GetAsync(ReadUrl(userId));
                    if (response.StatusCode != HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref _failed);
                        Failures.Enqueue($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                    }
                    else
                    {
                        _read.TryAdd((node, userId), true);
                    }

                    if (response.StatusCode == HttpStatusCode.OK && _expected.TryGetValue(userId, out var expected) && begun > expected.FreshBy)
                    {
                        Interlocked.Increment(ref _checked);
                        var json = await JsonAsync(response);
                        var industry = json.GetProperty("data").GetProperty("industry").GetString();
                        if (industry != expected.Industry && !SentAfter(userId, industry, expected.Industry)
                            && !json.GetProperty("cache_info").GetProperty("is_stale").GetBoolean())
                        {
                            Interlocked.Increment(ref _staleAsFresh);
                            StaleAnswers.Enqueue($"node {node} answered {userId} with {industry}, not {expected.Industry}, as fresh");
                        }
                    }
                }
                catch (HttpRequestException ex)
                {
                    Interlocked.Increment(ref _failed);
                    Failures.Enqueue(ex.Message);
                }

                Interlocked.Increment(ref _sent);
                var ticks = watch.Elapsed.Ticks;
                long slowest;
                while (ticks > (slowest = Interlocked.Read(ref _slowestTicks)) && Interlocked.CompareExchange(ref _slowestTicks, ticks, slowest) != slowest)
                {
                }
            }
        }));
    }

    /// <summary>Whether <paramref name="industry"/> is older than the last acknowledged write of the user (false when none is expected).</summary>
    public bool Outdated(string userId, string? industry) =>
        _expected.TryGetValue(userId, out var expected) && industry != expected.Industry && !SentAfter(userId, industry, expected.Industry);

    private bool SentAfter(string userId, string? industry, string expected) =>
        industry is not null && _sentValues.TryGetValue((userId, industry), out var sent)
                             && _sentValues.TryGetValue((userId, expected), out var before) && sent > before;

    public override string ToString() => $"{Sent} requests, {Failed} failed, slowest {TimeSpan.FromTicks(Interlocked.Read(ref _slowestTicks)).TotalMilliseconds:0} ms";
}
