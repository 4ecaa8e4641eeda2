using ContentPlanning.Api.Infrastructure.Background;
using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Hosting;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using Hangfire;
using Hangfire.Common;
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
            // A lock row left by a node that died holding it (Hangfire's schedulers take them for milliseconds) blocks
            // every node's due retries until it expires: one minute, not the library's ten.
            DistributedLockTimeout = TimeSpan.FromMinutes(1),
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
                sp.GetRequiredService<NodeIdentity>().Id, HangfirePoolSize(configuration, jobs.WorkersPerNode))), storageOptions)
            .WithJobExpirationTimeout(jobs.Retention));
        if (jobs.WorkersPerNode > 0)
        {
            services.AddHangfireServer((sp, server) =>
            {
                server.WorkerCount = jobs.WorkersPerNode;
                server.Queues = [HangfireQueue.RunQueue, HangfireQueue.WebhookQueue, "default"];
                server.ServerName = sp.GetRequiredService<NodeIdentity>().Id;
                // Due retries and recurring jobs are looked for as often as lease-expired ones: each look takes and releases
                // Hangfire's lock row (three transactions), the bulk of an idle node's database traffic.
                server.SchedulePollingInterval = jobs.QueuePollInterval;
                server.FilterProvider = new JobFilterProviderCollection(JobFilterProviders.Providers,
                    new RetryBudgets(sp.GetRequiredService<IOptions<CalendarJobsOptions>>().Value, sp.GetRequiredService<IOptions<WebhookOptions>>().Value));
            });
        }

        services.AddJobsDashboard();
    }

    /// <summary>
    /// Database__HangfireMaxPoolSize, or 2 per worker (its fetch and its LISTEN) plus <see cref="HangfireOwnConnections"/>.
    /// A ceiling, not a reservation: an idle node opens a few. Smaller, and Hangfire's processes that wait for a lock while
    /// holding a connection (the expiration manager, the schedulers) starve the workers' fetches and the server's own
    /// registration: jobs stay queued.
    /// </summary>
    internal static int HangfirePoolSize(IConfiguration configuration, int workers) =>
        configuration.GetSection(DatabaseOptions.Section).GetValue<int>(nameof(DatabaseOptions.HangfireMaxPoolSize)) is > 0 and var configured
            ? configured
            : (2 * workers) + HangfireOwnConnections;

    /// <summary>
    /// Hangfire's own processes that may each hold a connection at once: the server heartbeat, the server watchdog, the
    /// cancellation watcher, the delayed-job and recurring-job schedulers, the storage's expiration manager, counters
    /// aggregator and lease heartbeat; plus two for this node's enqueues and dashboard reads.
    /// </summary>
    internal const int HangfireOwnConnections = 10;
}

/// <summary>
/// One retry budget per job and one per webhook delivery, both Hangfire's own automatic retry with the delays our
/// settings give. The budget is counted on our row (a job's attempt, which takeovers count too; a delivery's recorded
/// attempts), which ends the job or delivery as failed when it is spent; Hangfire gets the same number, so it only
/// schedules the retries in between.
/// </summary>
internal sealed class RetryBudgets(CalendarJobsOptions jobs, WebhookOptions webhooks) : IJobFilterProvider
{
    private readonly JobFilter[] _run = [Retry(jobs.MaxAttempts, attempt => CalendarJobRunner.RetryDelay(attempt))];

    private readonly JobFilter[] _delivery = [Retry(webhooks.MaxAttempts, attempt => WebhookDelivery.RetryDelay(attempt, webhooks))];

    public IEnumerable<JobFilter> GetFilters(Job job) =>
        job?.Type == typeof(CalendarJobRunner) ? _run : job?.Type == typeof(WebhookDelivery) ? _delivery : [];

    // Method scope: it wins over the global default retry (10 attempts) Hangfire registers for every job.
    private static JobFilter Retry(int attempts, Func<long, TimeSpan> delay) => new(new AutomaticRetryAttribute
    {
        Attempts = attempts,
        DelayInSecondsByAttemptFunc = attempt => (int)Math.Ceiling(delay(attempt).TotalSeconds),
        OnAttemptsExceeded = AttemptsExceededAction.Fail,
    }, JobFilterScope.Method, order: null);
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

/// <summary>
/// Deletes our job rows finished longer than CalendarJobs__Retention ago, every CalendarJobs__CleanupInterval (zero:
/// never), on one node at a time. Hangfire expires its own work items after the same retention (JobExpirationTimeout).
/// </summary>
internal sealed class JobRetentionService(NpgsqlDataSource dataSource, IOptions<CalendarJobsOptions> options, ILogger<JobRetentionService> logger)
    : PeriodicWork(logger)
{
    private const long LockKey = 0x43505F4A4F42; // "CP_JOB"

    private const string DeleteSql = "DELETE FROM calendar_jobs WHERE finished_at < now() - @Retention";

    protected override TimeSpan Interval => options.Value.CleanupInterval;

    protected override Task RunAsync(CancellationToken cancellationToken) => CleanAsync(cancellationToken);

    /// <summary>Jobs deleted, or null when another node is cleaning.</summary>
    internal Task<int?> CleanAsync(CancellationToken cancellationToken) =>
        OneNodeAtATime.RunAsync<int?>(dataSource, LockKey, wait: false, async (connection, transaction) =>
            await connection.ExecuteAsync(new CommandDefinition(DeleteSql, new { options.Value.Retention }, transaction, cancellationToken: cancellationToken)),
            cancellationToken);
}
