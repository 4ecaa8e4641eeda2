using System.ComponentModel.DataAnnotations;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>Settings of the calendar generation jobs (section <c>CalendarJobs</c>).</summary>
public sealed class CalendarJobsOptions
{
    public const string Section = "CalendarJobs";

    /// <summary>Hangfire workers on this node (CalendarJobs__WorkersPerNode); 0 makes a node that accepts and reports jobs but runs none.</summary>
    [Range(0, 64)]
    public int WorkersPerNode { get; set; } = 2;

    /// <summary>
    /// How long a fetched job stays invisible to other nodes without its node renewing it (CalendarJobs__LeaseDuration).
    /// Renewed while the run is healthy (sliding invisibility), so only a dead or hung node loses its job.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs of one job, takeovers and retries after errors together (CalendarJobs__MaxAttempts); then it fails.</summary>
    [Range(1, 20)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How long finished jobs are kept (CalendarJobs__Retention).</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often one node deletes finished jobs past their retention (CalendarJobs__CleanupInterval).</summary>
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// The shortest time a step takes (CalendarJobs__MinimumStepDuration, default 0): the generator runs a step in
    /// microseconds, so demos and tests that want to watch a job step by step (or stop a node in the middle) slow it.
    /// </summary>
    public TimeSpan MinimumStepDuration { get; set; } = TimeSpan.Zero;

    /// <summary>How often a worker looks for work nobody announced: retries that are due and jobs whose lease expired.</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How often an idle progress stream sends a comment line (CalendarJobs__StreamHeartbeat, default 15 s), so proxies
    /// with a read timeout above it keep the stream open through a queued job or a long step.
    /// </summary>
    public TimeSpan StreamHeartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a stream ticket opens its job's stream (CalendarJobs__StreamTicketLifetime, default 5 minutes).</summary>
    public TimeSpan StreamTicketLifetime { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Settings of the completion webhooks (section <c>Webhooks</c>).</summary>
public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>
    /// The Standard Webhooks secret (Webhooks__SigningSecret): <c>whsec_</c> followed by base64 of at least 24 random bytes.
    /// Unset: a start with a callback_url is refused.
    /// </summary>
    public string? SigningSecret { get; set; }

    /// <summary>Accept http:// callback URLs (Webhooks__AllowInsecureHttp; local development only).</summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>Deliver to loopback, private, link-local and metadata addresses (Webhooks__AllowPrivateNetworks; local testing only).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Delivery attempts before the webhook is marked failed (Webhooks__MaxAttempts).</summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = 8;

    /// <summary>The first retry's delay; each next one doubles, with jitter (Webhooks__RetryBaseDelay).</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest delay between two attempts (Webhooks__MaxRetryDelay).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long one attempt waits for the receiver's answer (Webhooks__Timeout).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The HMAC key: the base64 after <c>whsec_</c> (or the whole value without the prefix).</summary>
    public byte[]? SigningKey() =>
        SigningSecret is { Length: > 0 } secret ? Convert.FromBase64String(secret.StartsWith("whsec_", StringComparison.Ordinal) ? secret[6..] : secret) : null;
}

/// <summary>Checks the settings at start, naming the setting that is wrong.</summary>
internal sealed class CalendarJobsOptionsValidator : Microsoft.Extensions.Options.IValidateOptions<WebhookOptions>, Microsoft.Extensions.Options.IValidateOptions<CalendarJobsOptions>
{
    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, WebhookOptions options)
    {
        if (options.SigningSecret is { Length: > 0 })
        {
            try
            {
                if (options.SigningKey()!.Length < 24)
                {
                    return Microsoft.Extensions.Options.ValidateOptionsResult.Fail("Webhooks__SigningSecret must hold at least 24 bytes (whsec_ + base64).");
                }
            }
            catch (FormatException)
            {
                return Microsoft.Extensions.Options.ValidateOptionsResult.Fail("Webhooks__SigningSecret must be whsec_ followed by base64.");
            }
        }

        return options.RetryBaseDelay <= TimeSpan.Zero || options.Timeout <= TimeSpan.Zero || options.MaxRetryDelay < options.RetryBaseDelay
            ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail("Webhooks__RetryBaseDelay and Webhooks__Timeout must be positive, Webhooks__MaxRetryDelay at least the base delay.")
            : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
    }

    public Microsoft.Extensions.Options.ValidateOptionsResult Validate(string? name, CalendarJobsOptions options) =>
        options.LeaseDuration < TimeSpan.FromSeconds(2) ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail("CalendarJobs__LeaseDuration must be at least 2 seconds.")
        : options.Retention <= TimeSpan.Zero ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail("CalendarJobs__Retention must be positive.")
        : options.QueuePollInterval <= TimeSpan.Zero ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail("CalendarJobs__QueuePollInterval must be positive.")
        : options.MinimumStepDuration < TimeSpan.Zero ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail("CalendarJobs__MinimumStepDuration must not be negative.")
        : options.StreamHeartbeat < TimeSpan.FromMilliseconds(100) ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail("CalendarJobs__StreamHeartbeat must be at least 100 ms.")
        : options.StreamTicketLifetime < TimeSpan.FromSeconds(1) ? Microsoft.Extensions.Options.ValidateOptionsResult.Fail("CalendarJobs__StreamTicketLifetime must be at least 1 second.")
        : Microsoft.Extensions.Options.ValidateOptionsResult.Success;
}
