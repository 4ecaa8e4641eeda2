using ContentPlanning.Caching.Tests.Support;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Caching.Tests;

public sealed class RegistrationTests
{
    private static IHost BuildHost(Dictionary<string, string?> settings, ListLoggerProvider logs)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Logging.ClearProviders().AddProvider(logs);
        builder.Services.AddTieredCache(builder.Configuration);
        return builder.Build();
    }

    [Test]
    public async Task OneCallBindsTheCacheSectionAndTheRedisConnectionString()
    {
        var logs = new ListLoggerProvider();
        var name = TestRedis.NewCacheName();
        using var host = BuildHost(new()
        {
            ["Cache:Name"] = name,
            ["Cache:Duration"] = "00:00:42",
            ["Cache:FailSafeMaxDuration"] = "00:10:00",
            ["Cache:FactorySoftTimeout"] = "00:00:00.250",
            ["Cache:BackplaneEnabled"] = "false",
            ["ConnectionStrings:Redis"] = TestRedis.Endpoint,
        }, logs);
        await host.StartAsync();

        var cache = (FusionTieredCache)host.Services.GetRequiredService<ITieredCache>();
        await cache.SetAsync("k", 1);

        Assert.That(cache.Name, Is.EqualTo(name));
        Assert.That(cache.DefaultEntryOptions.Duration, Is.EqualTo(TimeSpan.FromSeconds(42)));
        Assert.That(cache.DefaultEntryOptions.FailSafeMaxDuration, Is.EqualTo(TimeSpan.FromMinutes(10)));
        Assert.That(cache.DefaultEntryOptions.FactorySoftTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
        Assert.That(cache.DefaultEntryOptions.FactoryHardTimeout, Is.EqualTo(Timeout.InfiniteTimeSpan));
        Assert.That(host.Services.GetRequiredService<ITieredCacheProvider>().GetCache(name), Is.SameAs(cache));
        Assert.That(host.Services.GetRequiredService<RedisConnection>().IsConnected, Is.True);
        await TestRedis.Eventually(async () => await TestRedis.Database.KeyExistsAsync(TestRedis.EntryKey(name, "k")), "the value reached Redis");
        Assert.That(cache.GetStatistics().BackplaneConnected, Is.False, "Cache:BackplaneEnabled=false");
        await host.StopAsync();
    }

    [Test]
    public void AnInvalidSettingStopsTheHostWithAMessageNamingIt()
    {
        using var host = BuildHost(new()
        {
            ["Cache:Duration"] = "-00:00:01",
            ["Cache:EagerRefreshThreshold"] = "1.5",
        }, new ListLoggerProvider());

        var thrown = Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.That(thrown!.Message, Does.Contain("Cache:Duration").And.Contain("Cache:EagerRefreshThreshold"));
    }

    [Test]
    public async Task WithoutARedisConnectionStringTheCacheRunsL1OnlyAndSaysSoOnce()
    {
        var logs = new ListLoggerProvider();
        using var host = BuildHost(new() { ["Cache:Name"] = "l1-only" }, logs);
        await host.StartAsync();
        var cache = host.Services.GetRequiredService<ITieredCache>();

        await cache.SetAsync("k", 1);
        var hit = await cache.TryGetAsync<int>("k");

        Assert.That((hit.Value, hit.Source), Is.EqualTo((1, CacheSource.Memory)));
        Assert.That(cache.GetStatistics().DistributedAvailable, Is.False);
        Assert.That(logs.Count(LogLevel.Information, "L1-only"), Is.EqualTo(1));
        Assert.That(host.Services.GetRequiredService<RedisConnection>().IsConfigured, Is.False);
        await host.StopAsync();
    }
}
