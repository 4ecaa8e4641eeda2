using System.Text.Json.Nodes;
using System.Transactions;
using ContentPlanning.Api.Features.Shared;
using Dapper;
using Hangfire;
using Hangfire.Common;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.States;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// What clients see of a job (the progress answer, the start answer and the cancel answer); <c>node</c> is the node that
/// runs (or last ran) it, for an SRE looking at a stuck job.
/// </summary>
public sealed record JobView(
    Guid SessionId, string UserId, string Status, int Attempt, int CurrentStep, string? StepName, int OverallProgress, int EstimatedSteps,
    JsonNode StepResults, long? CalendarId, string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, WebhookView? Webhook, string? Node)
{
    public const int Steps = 12;

    /// <summary>
    /// A short-lived ticket that opens this job's progress stream without a token (<c>?ticket=</c>, for a browser's
    /// EventSource); only on the start and progress answers, null without Redis or with auth off.
    /// </summary>
    public string? StreamTicket { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public bool IsFinished => Status is JobStatus.Completed or JobStatus.Failed or JobStatus.Cancelled;
}

/// <summary>The completion webhook of a job with a callback_url.</summary>
public sealed record WebhookView(string Status, int Attempts, int? LastStatusCode);

public static class JobStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>A job row as read by Dapper (snake_case columns).</summary>
public sealed record JobRow(
    Guid SessionId, string UserId, string Status, int Attempt, int CurrentStep, string? StepName, JsonNode? StepResults, long? CalendarId,
    string? Error, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? WebhookStatus, int WebhookAttempts, int? WebhookLastStatusCode,
    string? CallbackUrl, string? Node)
{
    public JobView ToView() => new(
        SessionId, UserId, Status, Attempt, CurrentStep, StepName,
        Status == JobStatus.Completed ? 100 : (int)Math.Round(100.0 * CurrentStep / JobView.Steps),
        JobView.Steps, StepResults ?? new JsonArray(), CalendarId, Error, CreatedAt, UpdatedAt,
        WebhookStatus is null ? null : new WebhookView(WebhookStatus, WebhookAttempts, WebhookLastStatusCode), Node);
}

/// <summary>
/// The jobs' rows (what clients see) and their Hangfire work items, written together: every transition to a final state
/// and every enqueue happens in one transaction with the row it belongs to (Hangfire's storage enlists in it).
/// </summary>
public sealed class CalendarJobStore(NpgsqlDataSource dataSource, HangfireQueue queue)
{
    public const string Columns = """
        session_id, user_id, status, attempt, current_step, step_name, step_results, calendar_id, error, created_at, updated_at,
        webhook_status, webhook_attempts, webhook_last_status_code, callback_url, node
        """;

    // A final state, once: only a queued or running job (of this attempt, when the runner finishes it) moves. With a
    // callback_url the webhook's event is fixed here, in the same transaction, and its delivery enqueued with it.
    private const string FinishSql = $"""
        UPDATE calendar_jobs
        SET status = @Status, calendar_id = @CalendarId, error = @Error, finished_at = now(), updated_at = now(),
            webhook_status = CASE WHEN callback_url IS NULL THEN NULL ELSE 'pending' END,
            webhook_id = CASE WHEN callback_url IS NULL THEN NULL ELSE 'msg_' || replace(gen_random_uuid()::text, '-', '') END,
            webhook_event = CASE WHEN callback_url IS NULL THEN NULL ELSE jsonb_strip_nulls(jsonb_build_object(
                'type', 'calendar.generation.' || @Status, 'session_id', session_id, 'user_id', user_id,
                'calendar_id', @CalendarId::bigint, 'error', @Error::text, 'occurred_at', now())) END
        WHERE session_id = @Id AND status IN ('queued', 'running') AND (@Attempt::int IS NULL OR attempt = @Attempt)
        RETURNING {Columns}
        """;

    private const string FindSql = $"SELECT {Columns} FROM calendar_jobs WHERE session_id = @Id AND (@UserId::text IS NULL OR user_id = @UserId)";

    /// <summary>The job, or null when it does not exist or belongs to another user than <paramref name="userId"/> (when given).</summary>
    public async Task<JobRow?> FindAsync(Guid sessionId, string? userId, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        return await connection.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(FindSql, new { Id = sessionId, UserId = userId }, cancellationToken: cancellationToken));
    }

    /// <summary>Moves a job to a final state in its own transaction; null when it already was final (or another attempt runs it).</summary>
    public async Task<JobRow?> FinishAsync(Guid sessionId, string status, string? error, int? attempt, CancellationToken cancellationToken)
    {
        using var scope = AmbientTransaction.Begin();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        connection.EnlistTransaction(Transaction.Current);
        var row = await FinishAsync(connection, sessionId, status, calendarId: null, error, attempt, cancellationToken);
        scope.Complete();
        return row;
    }

    /// <summary>The same, on a connection enlisted in the caller's ambient transaction (the calendar's own, for a completion).</summary>
    public async Task<JobRow?> FinishAsync(NpgsqlConnection enlisted, Guid sessionId, string status, long? calendarId, string? error, int? attempt, CancellationToken cancellationToken)
    {
        var row = await enlisted.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(FinishSql,
            new { Id = sessionId, Status = status, CalendarId = calendarId, Error = error, Attempt = attempt }, cancellationToken: cancellationToken));
        if (row?.CallbackUrl is not null)
        {
            queue.EnqueueWebhook(enlisted, sessionId);
        }

        if (row is not null)
        {
            CalendarJobTelemetry.Finished(status);
        }

        return row;
    }
}

/// <summary>
/// Hangfire's queue, written through the caller's connection so that a job is enqueued in the caller's transaction: it
/// exists exactly when the row that asked for it committed.
/// </summary>
public sealed class HangfireQueue(PostgreSqlStorageOptions storageOptions)
{
    public const string RunQueue = "calendar_jobs";

    public const string WebhookQueue = "webhooks";

    // A storage over one existing connection, enlisting in its ambient transaction; never creates schema objects.
    private readonly PostgreSqlStorageOptions _enlisting = new()
    {
        SchemaName = storageOptions.SchemaName,
        PrepareSchemaIfNecessary = false,
        EnableTransactionScopeEnlistment = true,
        UseSlidingInvisibilityTimeout = false,
    };

    public string EnqueueRun(NpgsqlConnection enlisted, Guid sessionId) =>
        Client(enlisted).Create(Job.FromExpression<CalendarJobRunner>(r => r.RunAsync(sessionId, CancellationToken.None)), new EnqueuedState(RunQueue));

    public string EnqueueWebhook(NpgsqlConnection enlisted, Guid sessionId) =>
        Client(enlisted).Create(Job.FromExpression<WebhookDelivery>(d => d.DeliverAsync(sessionId, CancellationToken.None)), new EnqueuedState(WebhookQueue));

    public string ScheduleWebhook(NpgsqlConnection enlisted, Guid sessionId, TimeSpan delay) =>
        Client(enlisted).Create(Job.FromExpression<WebhookDelivery>(d => d.DeliverAsync(sessionId, CancellationToken.None)), new ScheduledState(delay));

    private BackgroundJobClient Client(NpgsqlConnection enlisted) =>
        new(new PostgreSqlStorage(new ExistingNpgsqlConnectionFactory(enlisted, _enlisting), _enlisting));
}
