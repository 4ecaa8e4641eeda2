using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Caching.Tests;

public sealed class RegistrationTests
{
    private sealed record Value(int Number);

    private static IHost BuildHost(Dictionary<string, string?> settings, ListLoggerProvider logs)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(logs).SetMinimumLevel(LogLevel.Trace);
        builder.Services.AddTieredCache(builder.Configuration);
        return builder.Build();
    }

    [Test]
    public async Task TheCacheSectionIsBoundOntoFusionCachesOwnOptions()
    {
        var name = TestRedis.NewCacheName();
        using var logs = new ListLoggerProvider();
        using var host = BuildHost(new()
        {
            ["Cache:Name"] = name,
            ["Cache:Duration"] = "00:00:42",
            ["Cache:FailSafeMaxDuration"] = "00:10:00",
            ["Cache:FactorySoftTimeout"] = "00:00:00.250",
            ["Cache:DistributedOperationTimeout"] = "00:00:00.300",
            ["Cache:BackgroundDistributedOperations"] = "false",
            ["ConnectionStrings:Redis"] = TestRedis.Endpoint,
        }, logs);
        await host.StartAsync();
        var cache = host.Services.GetRequiredService<IFusionCache>();
        var entry = cache.DefaultEntryOptions;

        await host.Services.GetRequiredService<CachedRead>().ReadAsync("k", 0, static (_, _) => Task.FromResult<Value?>(new Value(1)), false);

        Assert.That(cache.CacheName, Is.EqualTo(name));
        Assert.That((entry.Duration, entry.FailSafeMaxDuration, entry.FactorySoftTimeout, entry.FactoryHardTimeout),
            Is.EqualTo((TimeSpan.FromSeconds(42), TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(250), Timeout.InfiniteTimeSpan)));
        Assert.That((entry.DistributedCacheSoftTimeout, entry.AllowBackgroundDistributedCacheOperations), Is.EqualTo((TimeSpan.FromMilliseconds(300), false)));
        Assert.That((cache.HasDistributedCache, cache.HasBackplane), Is.EqualTo((true, true)));
        Assert.That(await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "k")), Is.True, "the value is in Redis under the cache's prefix");
        await host.StopAsync();
    }

    [Test]
    public async Task L2BackplaneAndLockerShareTheNodesOneMultiplexer()
    {
        var client = "cp-" + Guid.NewGuid().ToString("N")[..8];
        using var logs = new ListLoggerProvider();
        using var host = BuildHost(new()
        {
            ["Cache:Name"] = TestRedis.NewCacheName(),
            ["Cache:BackgroundDistributedOperations"] = "false",
            ["ConnectionStrings:Redis"] = $"{TestRedis.Endpoint},name={client}",
        }, logs);
        await host.StartAsync();
        var reads = host.Services.GetRequiredService<CachedRead>();
        await reads.ReadAsync("k", 0, static (_, _) => Task.FromResult<Value?>(new Value(1)), false);
        await reads.Cache.RemoveByTagAsync("t");

        var connections = (await TestRedis.Server.ClientListAsync()).Count(c => c.Name == client);

        Assert.That(connections, Is.EqualTo(2), "one interactive and one subscription socket (RESP2) for L2, backplane and locker together");
        await host.StopAsync();
    }

    [Test]
    public void AnInvalidSettingStopsTheHostWithAMessageNamingIt()
    {
        // Refused while the services are registered, before any host exists: the start-up report names each setting once.
        using var logs = new ListLoggerProvider();
        var thrown = Assert.Throws<OptionsValidationException>(() => BuildHost(new()
        {
            ["Cache:Duration"] = "-00:00:01",
            ["Cache:EagerRefreshThreshold"] = "1.5",
        }, logs).Dispose());

        Assert.That(thrown!.Message, Does.Contain("Cache:Duration").And.Contain("Cache:EagerRefreshThreshold"));
    }

    [Test]
    public async Task WithoutARedisConnectionStringTheCacheRunsL1OnlyAndSaysSoOnce()
    {
        using var logs = new ListLoggerProvider();
        using var host = BuildHost(new() { ["Cache:Name"] = "l1-only" }, logs);
        await host.StartAsync();
        var reads = host.Services.GetRequiredService<CachedRead>();

        await reads.ReadAsync("k", 0, static (_, _) => Task.FromResult<Value?>(new Value(1)), false);
        var hit = await reads.ReadAsync("k", 0, static (_, _) => Task.FromResult<Value?>(new Value(2)), false);

        Assert.That((hit.Value!.Number, hit.Source), Is.EqualTo((1, CacheSource.Memory)));
        Assert.That((reads.Cache.HasDistributedCache, reads.Cache.HasBackplane), Is.EqualTo((false, false)));
        Assert.That(logs.Count(LogLevel.Information, "L1-only"), Is.EqualTo(1));
        await host.StopAsync();
    }

    [TestCase(null, 0)]
    [TestCase("Debug", 1)]
    public async Task FusionCacheLogsAtWarningByDefaultAndCacheLogLevelRaisesIt(string? level, int atLeastDebugLines)
    {
        using var logs = new ListLoggerProvider();
        var settings = new Dictionary<string, string?> { ["Cache:Name"] = TestRedis.NewCacheName() };
        if (level is not null) settings["Cache:LogLevel"] = level;
        using var host = BuildHost(settings, logs);
        await host.StartAsync();
        var reads = host.Services.GetRequiredService<CachedRead>();

        for (var i = 0; i < 100; i++)
        {
            await reads.ReadAsync("k", 0, static (_, _) => Task.FromResult<Value?>(new Value(1)), false);
        }

        var fusionLines = logs.Records.Count(r => r.Category.StartsWith("ZiggyCreatures.Caching.Fusion", StringComparison.Ordinal));
        Assert.That(fusionLines, atLeastDebugLines == 0 ? Is.Zero : Is.GreaterThanOrEqualTo(atLeastDebugLines));
        await host.StopAsync();
    }
}
