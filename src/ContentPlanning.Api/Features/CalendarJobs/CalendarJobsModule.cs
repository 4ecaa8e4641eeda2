using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Features;
using ContentPlanning.Caching;
using Dapper;
using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// The jobs' services: Hangfire with its queue in our PostgreSQL (schema <c>hangfire</c>), workers on this node, the
/// job event listener, the webhook client, the dashboard and the retention cleanup.
/// </summary>
internal sealed class CalendarJobsModule : IServiceModule
{
    public const string HangfireSchema = "hangfire";

    public void AddServices(IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CalendarJobsOptions>().Bind(configuration.GetSection(CalendarJobsOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<CalendarJobsOptions>, CalendarJobsOptionsValidator>();
        services.AddSingleton<IValidateOptions<WebhookOptions>, CalendarJobsOptionsValidator>();

        var jobs = configuration.GetSection(CalendarJobsOptions.Section).Get<CalendarJobsOptions>() ?? new CalendarJobsOptions();
        var storageOptions = new PostgreSqlStorageOptions
        {
            SchemaName = HangfireSchema,
            PrepareSchemaIfNecessary = true,
            // A fetched job stays invisible while its worker keeps renewing it; a dead node's job reappears after the lease.
            UseSlidingInvisibilityTimeout = true,
            InvisibilityTimeout = jobs.LeaseDuration,
            QueuePollInterval = jobs.QueuePollInterval,
            EnableLongPolling = true,
        };
        services.AddSingleton(storageOptions);
        services.AddSingleton<HangfireQueue>();
        services.AddSingleton<CalendarJobStore>();
        services.AddScoped<CalendarJobRunner>();
        services.AddScoped<WebhookDelivery>();
        services.AddSingleton<JobEventListener>();
        services.AddSingleton<IDatabaseNotificationHandler>(sp => sp.GetRequiredService<JobEventListener>());
        services.AddHostedService<HangfireSchemaInstaller>();
        services.AddHostedService<JobRetentionService>();
        services.AddHttpClient(WebhookDelivery.HttpClientName).ConfigurePrimaryHttpMessageHandler(sp => WebhookDelivery.CreateHandler(sp.GetRequiredService<IOptions<WebhookOptions>>()));

        services.AddHangfire((sp, config) => config
            .UseLogProvider(new DisposalTolerantLogProvider(new Hangfire.AspNetCore.AspNetCoreLogProvider(sp.GetRequiredService<ILoggerFactory>())))
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            // On the direct string: Hangfire's long polling LISTENs, which a transaction pooler cannot carry.
            .UsePostgreSqlStorage(o => o.UseNpgsqlConnection(sp.GetRequiredService<DatabaseConnections>().HangfireConnectionString(
                HangfirePoolSize(configuration, jobs.WorkersPerNode))), storageOptions));
        if (jobs.WorkersPerNode > 0)
        {
            services.AddHangfireServer((sp, server) =>
            {
                server.WorkerCount = jobs.WorkersPerNode;
                server.Queues = [HangfireQueue.RunQueue, HangfireQueue.WebhookQueue, "default"];
                server.ServerName = sp.GetRequiredService<ITieredCache>().GetStatistics().NodeId;
                // Due retries and recurring jobs are looked for as often as lease-expired ones: each look takes and releases
                // Hangfire's lock row (three transactions), the bulk of an idle node's database traffic.
                server.SchedulePollingInterval = jobs.QueuePollInterval;
            });
        }

        services.AddTransient<IStartupFilter, HangfireDashboard.StartupFilter>();
    }

    /// <summary>Database__HangfireMaxPoolSize, or 2 per worker (its fetch and its LISTEN) plus 3 for the schedulers and heartbeat.</summary>
    internal static int HangfirePoolSize(IConfiguration configuration, int workers) =>
        configuration.GetSection(DatabaseOptions.Section).GetValue<int>(nameof(DatabaseOptions.HangfireMaxPoolSize)) is > 0 and var configured
            ? configured
            : (2 * workers) + 3;
}

/// <summary>
/// Hangfire keeps its log provider in a static, set by the last host that configured it. Several hosts in one process
/// (the tests' nodes) would leave it pointing at a disposed host's logger factory, and every enqueue would throw; this
/// wrapper answers a silent logger then instead.
/// </summary>
internal sealed class DisposalTolerantLogProvider(Hangfire.Logging.ILogProvider inner) : Hangfire.Logging.ILogProvider
{
    public Hangfire.Logging.ILog GetLogger(string name)
    {
        try
        {
            return inner.GetLogger(name);
        }
        catch (ObjectDisposedException)
        {
            return Silent.Instance;
        }
    }

    private sealed class Silent : Hangfire.Logging.ILog
    {
        public static readonly Silent Instance = new();

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null) => false;
    }
}

/// <summary>Creates Hangfire's schema at start (once across nodes: Hangfire's installer locks), so a node without workers can enqueue.</summary>
internal sealed partial class HangfireSchemaInstaller(IServiceProvider services, ILogger<HangfireSchemaInstaller> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            _ = services.GetRequiredService<JobStorage>();
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
        {
            // The database is down at start: starts answer 503 until it is back and the storage initialises.
            LogUnavailable(logger, ex.Message);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Hangfire storage not initialised at start: {Detail}")]
    private static partial void LogUnavailable(ILogger logger, string detail);
}

/// <summary>Deletes finished jobs older than CalendarJobs__Retention, on one node at a time (advisory lock).</summary>
internal sealed partial class JobRetentionService(NpgsqlDataSource dataSource, IOptions<CalendarJobsOptions> options, ILogger<JobRetentionService> logger) : BackgroundService
{
    private const long LockKey = 0x43505F4A4F42; // "CP_JOB"

    private const string DeleteSql = "DELETE FROM calendar_jobs WHERE finished_at < now() - @Retention";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.CleanupInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CleanAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
                {
                    LogFailed(logger, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Jobs deleted, or null when another node is cleaning.</summary>
    internal async Task<int?> CleanAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition("SELECT pg_try_advisory_lock(@LockKey)", new { LockKey }, cancellationToken: cancellationToken)))
        {
            return null;
        }

        try
        {
            return await connection.ExecuteAsync(new CommandDefinition(DeleteSql, new { options.Value.Retention }, cancellationToken: cancellationToken));
        }
        finally
        {
            await connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_unlock(@LockKey)", new { LockKey }, cancellationToken: CancellationToken.None));
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deleting finished calendar jobs failed: {Detail}")]
    private static partial void LogFailed(ILogger logger, string detail);
}
