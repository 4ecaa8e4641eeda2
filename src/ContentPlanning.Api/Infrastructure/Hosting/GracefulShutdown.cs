using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ContentPlanning.Api.Infrastructure.Hosting;

/// <summary>Settings of <c>Shutdown</c>: how a node leaves on SIGTERM.</summary>
public sealed class ShutdownOptions
{
    public const string Section = "Shutdown";

    /// <summary>
    /// The longest a stop may take (Shutdown__Timeout, default 25 s; HostOptions.ShutdownTimeout): in-flight requests
    /// finish, progress streams end, Hangfire hands running jobs back. Keep it below the orchestrator's grace period.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(25);

    /// <summary>
    /// How long the node keeps serving while <c>/health/ready</c> already answers 503 (Shutdown__DrainDelay, default 0),
    /// so a balancer that probes readiness stops sending before the listener closes. Kubernetes: a preStop pause does it.
    /// </summary>
    public TimeSpan DrainDelay { get; set; } = TimeSpan.Zero;
}

/// <summary>
/// On SIGTERM: readiness turns unready at once (<c>ApplicationStopping</c>), then, before any service stops, the drain
/// delay; then Kestrel stops taking connections and waits for in-flight requests, progress streams end (they watch
/// <c>ApplicationStopping</c>) and Hangfire's workers are cancelled, which requeues their jobs for another node.
/// </summary>
public static partial class GracefulShutdown
{
    /// <summary>
    /// Runs the node until it is stopped. A stop that overruns <c>Shutdown__Timeout</c> is still the stop that was asked
    /// for: the host cancels what had not finished (Hangfire's workers throw <see cref="OperationCanceledException"/> out
    /// of their StopAsync), which is logged here as a warning and ends with exit code 0, not as an unhandled exception
    /// (a non-zero exit would make systemd or compose's <c>on-failure</c> restart a node that was told to go). A job cut
    /// short returns to the queue when its Hangfire lease lapses and another node runs it again.
    /// </summary>
    public static async Task RunUntilStoppedAsync(this WebApplication app)
    {
        // Read before the run: RunAsync disposes the host, and with it the services.
        var stopping = app.Lifetime.ApplicationStopping;
        var timeout = app.Services.GetRequiredService<ShutdownOptions>().Timeout;
        var logger = app.Logger;
        try
        {
            await app.RunAsync();
        }
        catch (Exception e) when (stopping.IsCancellationRequested && IsCancellation(e))
        {
            StopOverran(logger, timeout, e.GetType().Name);
        }
    }

    private static bool IsCancellation(Exception e) =>
        e is OperationCanceledException || (e is AggregateException all && all.InnerExceptions.All(IsCancellation));

    [LoggerMessage(EventId = 900, Level = LogLevel.Warning,
        Message = "The stop took longer than Shutdown__Timeout ({Timeout}); work still running was cancelled ({Cancellation}) and its jobs return to the queue for another node")]
    private static partial void StopOverran(ILogger logger, TimeSpan timeout, string cancellation);

    public static IServiceCollection AddGracefulShutdown(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(ShutdownOptions.Section).Get<ShutdownOptions>() ?? new ShutdownOptions();
        if (options.Timeout <= TimeSpan.Zero || options.DrainDelay < TimeSpan.Zero || options.DrainDelay >= options.Timeout)
        {
            throw new InvalidOperationException("Shutdown__Timeout must be positive and Shutdown__DrainDelay between 0 and the timeout.");
        }

        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.Timeout);
        services.AddSingleton(options);
        services.AddHostedService<DrainDelay>();
        services.AddHealthChecks().AddCheck<StoppingHealthCheck>("shutdown", tags: [Health.HealthEndpoints.ReadyTag]);
        return services;
    }

    private sealed class DrainDelay(ShutdownOptions options) : IHostedLifecycleService
    {
        public Task StoppingAsync(CancellationToken cancellationToken) =>
            options.DrainDelay > TimeSpan.Zero ? Task.Delay(options.DrainDelay, cancellationToken) : Task.CompletedTask;

        public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private sealed class StoppingHealthCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(lifetime.ApplicationStopping.IsCancellationRequested
                ? HealthCheckResult.Unhealthy("stopping: this node takes no new work")
                : HealthCheckResult.Healthy("serving"));
    }
}
