using System.Net;
using ContentPlanning.Api.Tests.Infrastructure;
using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;
using static ContentPlanning.Api.Tests.Strategies.StrategyApi;

namespace ContentPlanning.Api.Tests.GetActiveStrategy;

/// <summary>
/// Issue 10 items 7 and 8 (cache half): the service's own entries follow the Cache__* defaults, and a not-found answer
/// leaves nothing in Redis that outlives its own 30 s.
/// </summary>
public sealed class CacheSettingsTests : DatabaseTest
{
    private static readonly Lazy<ConnectionMultiplexer> Redis = new(() => ConnectionMultiplexer.Connect(TestEnvironment.RedisConnectionString));

    [Test]
    public async Task CacheDurationSetsHowLongTheServiceKeepsAnAnswerInMemory()
    {
        await using var node = await CacheCoherence.ChangeNotificationTests.StartListeningNodeAsync("node-short", new Dictionary<string, string?>
        {
            ["Cache:Name"] = "short-" + Guid.NewGuid().ToString("N")[..8],
            // Long enough that the second read lands inside it even on a saturated machine, short enough to wait out.
            ["Cache:Duration"] = "00:00:03",
        });
        using var client = node.CreateClient();
        var duration = TimeSpan.FromSeconds(3);
        await CreateIdAsync(client, "user-1", "Short");
        // The creation's change notification makes this node (the only one listening) refresh the active strategy: let
        // that land before timing the entry the reads below make.
        await CacheCoherence.ChangeNotificationTests.SyncAsync(node);

        // The entry is made during the first read, so it lives until somewhere in [first.start + 3 s, first.end + 3 s].
        // Assert only what that window guarantees, never its edge: a second read that ENDS before first.start + 3 s must
        // be an L1 hit (on a machine too slow for that, the first read is repeated on a fresh entry), and a read that
        // STARTS after first.end + 3 s must not be.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan firstEnded;
        System.Text.Json.Nodes.JsonObject soon;
        for (var attempt = 0; ; attempt++)
        {
            await node.Services.GetRequiredService<ZiggyCreatures.Caching.Fusion.IFusionCache>().RemoveAsync(Features.GetActiveStrategy.GetActiveStrategy.CacheKey("user-1"));
            node.Services.GetRequiredService<ContentPlanning.Caching.CacheMemory>().Clear();
            var firstStarted = clock.Elapsed;
            await GetActiveAsync(client, "user-1");
            firstEnded = clock.Elapsed;
            soon = await GetActiveAsync(client, "user-1");
            if (clock.Elapsed < firstStarted + duration || attempt == 9)
            {
                Assert.That(clock.Elapsed, Is.LessThan(firstStarted + duration), "ten attempts, none with two reads inside 3 s");
                break;
            }
        }

        var wait = firstEnded + duration - clock.Elapsed + TimeSpan.FromMilliseconds(50);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        var later = await GetActiveAsync(client, "user-1");

        Assert.That(Source(soon), Is.EqualTo("memory"));
        Assert.That(Source(later), Is.Not.EqualTo("memory"), "Cache__Duration=3s: the L1 entry is gone 3 s after the read that made it");
    }

    [Test]
    public async Task CacheDistributedCacheDurationSetsHowLongRedisKeepsIt()
    {
        var name = "l2-" + Guid.NewGuid().ToString("N")[..8];
        await using var node = new ApiFactory("node-l2", new Dictionary<string, string?>
        {
            ["Cache:Name"] = name,
            ["Cache:Duration"] = "00:00:05",
            ["Cache:DistributedCacheDuration"] = "00:00:07",
            ["Cache:FailSafeMaxDuration"] = "00:00:09",
            ["Cache:BackgroundDistributedOperations"] = "false",
        });
        using var client = node.CreateClient();
        await CreateIdAsync(client, "user-1", "Ttl");
        await GetActiveAsync(client, "user-1");

        var ttl = await Redis.Value.GetDatabase().KeyTimeToLiveAsync($"v2:{name}:{Features.GetActiveStrategy.GetActiveStrategy.CacheKey("user-1")}");

        Assert.That(ttl, Is.Not.Null.And.LessThanOrEqualTo(TimeSpan.FromSeconds(10)),
            "the Redis key lives at most the configured L2 fail-safe window, not the built-in hour");
    }

    [Test]
    public async Task ANotFoundAnswerLeavesNoRedisKeyLivingLongerThanItsThirtySeconds()
    {
        var name = "nf-" + Guid.NewGuid().ToString("N")[..8];
        await using var node = new ApiFactory("node-nf", new Dictionary<string, string?>
        {
            ["Cache:Name"] = name,
            ["Cache:BackgroundDistributedOperations"] = "false",
        });
        using var client = node.CreateClient();

        for (var i = 0; i < 20; i++)
        {
            using var response = await client.GetAsync(ActiveStrategy($"nobody-{i}"));
            Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.NotFound));
        }

        var server = Redis.Value.GetServer(Redis.Value.GetEndPoints()[0]);
        var keys = server.Keys(pattern: $"*{name}*").ToArray();
        Assert.That(keys, Is.Not.Empty, "the not-found answers are cached in Redis (or this test proves nothing)");
        foreach (var key in keys)
        {
            var ttl = await Redis.Value.GetDatabase().KeyTimeToLiveAsync(key);
            Assert.That(ttl, Is.Not.Null.And.LessThanOrEqualTo(TimeSpan.FromSeconds(31)), $"{key} outlives the 30 s not-found entry");
        }
    }

    [Test]
    public async Task CacheIsFailSafeEnabledFalseMeansNoStaleAnswerWhenPostgresIsDown()
    {
        var postgres = new Npgsql.NpgsqlConnectionStringBuilder(TestEnvironment.PostgresConnectionString);
        using var proxy = new TcpProxy($"{postgres.Host}:{postgres.Port}");
        postgres.Host = "127.0.0.1";
        postgres.Port = proxy.Port;
        postgres.Pooling = false;
        postgres.Timeout = 3;
        await using var node = new ApiFactory("node-no-failsafe", new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = postgres.ConnectionString,
            ["Database:MigrateOnStart"] = "false",
            ["Cache:Name"] = "nofs-" + Guid.NewGuid().ToString("N")[..8],
            ["Cache:Duration"] = "00:00:01",
            ["Cache:DistributedCacheDuration"] = "00:00:01",
            ["Cache:IsFailSafeEnabled"] = "false",
            // No change listener: the strategy write below would make it refresh the answer at a moment the test does not
            // choose (late on a loaded machine), so the entry could still be fresh when the database is cut.
            ["CacheCoherence:Enabled"] = "false",
        });
        using var client = node.CreateClient();
        await CreateIdAsync(client, "user-1", "No fail-safe");
        await GetActiveAsync(client, "user-1");
        await Task.Delay(TimeSpan.FromMilliseconds(1500));

        proxy.Cut();
        try
        {
            using var answer = await client.GetAsync(ActiveStrategy("user-1"));
            Assert.That(answer.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable),
                "Cache__IsFailSafeEnabled=false: an expired value is not served when the database is down: " + await answer.Content.ReadAsStringAsync());
        }
        finally
        {
            proxy.Restore();
        }
    }
}
