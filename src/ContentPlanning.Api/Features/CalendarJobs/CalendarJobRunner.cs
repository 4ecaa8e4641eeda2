using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using ContentPlanning.Api.Infrastructure.Hosting;
using ContentPlanning.Api.Infrastructure.Telemetry;
using Dapper;
using FluentValidation;
using Hangfire;
using MediatR;
using Microsoft.Extensions.Options;
using Npgsql;
using Generate = ContentPlanning.Api.Features.GenerateCalendar.GenerateCalendar;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// One run of a job on a Hangfire worker: claims the job (a new attempt), sends the GenerateCalendar request with an
/// observer that records every step and stops the run when the job was cancelled or another node took it over, and ends
/// the job in the calendar's own transaction. A run on a node that died is fetched again by another node once its lease
/// expires and starts from the beginning, as the next attempt.
/// </summary>
public sealed partial class CalendarJobRunner(
    IMediator mediator,
    NpgsqlDataSource dataSource,
    CalendarJobStore store,
    NodeIdentity node,
    TimeProvider time,
    IOptions<CalendarJobsOptions> options,
    IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json,
    ILogger<CalendarJobRunner> logger)
{
    private const string ClaimSql = """
        UPDATE calendar_jobs
        SET status = 'running', attempt = attempt + 1, node = @Node, started_at = COALESCE(started_at, now()),
            current_step = 0, step_name = NULL, step_results = '[]'::jsonb, updated_at = now()
        WHERE session_id = @Id AND status IN ('queued', 'running')
        RETURNING attempt, request::text AS request, traceparent, error, created_at, started_at
        """;

    private const string ProgressSql = """
        UPDATE calendar_jobs SET current_step = @Step, step_name = @Name, step_results = @Steps::jsonb, updated_at = now()
        WHERE session_id = @Id AND attempt = @Attempt AND status = 'running'
        """;

    private const string RecordErrorSql = "UPDATE calendar_jobs SET error = @Error, updated_at = now() WHERE session_id = @Id AND attempt = @Attempt";

    private sealed record Claim(int Attempt, string Request, string? Traceparent, string? Error, DateTimeOffset CreatedAt, DateTimeOffset StartedAt);

    /// <summary>Thrown by the observer: the job was cancelled, or another attempt owns it now. Nothing is stored.</summary>
    private sealed class RunStoppedException() : Exception("The job was cancelled or taken over by another attempt.");

    /// <summary>The wait before the retry after a failed run: 1, 2, 4, 8 ... seconds, at most a minute.</summary>
    internal static TimeSpan RetryDelay(long retry) => TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(retry - 1, 6))));

    [Queue(HangfireQueue.RunQueue)]
    public async Task RunAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        Claim? claim;
        await using (var connection = await dataSource.OpenConnectionAsync(cancellationToken))
        {
            claim = await connection.QuerySingleOrDefaultAsync<Claim>(new CommandDefinition(ClaimSql,
                new { Id = sessionId, Node = node.Id }, cancellationToken: cancellationToken));
        }

        if (claim is null)
        {
            // Cancelled while queued, finished by an earlier attempt, or deleted: nothing to do.
            return;
        }

        if (claim.Attempt > settings.MaxAttempts)
        {
            var reason = claim.Error ?? "the node running it stopped renewing its lease (it died or hung)";
            await store.FinishAsync(sessionId, JobStatus.Failed, $"Gave up after {settings.MaxAttempts} attempts: {reason}", claim.Attempt, CancellationToken.None);
            return;
        }

        if (claim.Attempt == 1)
        {
            CalendarJobTelemetry.Waited(claim.StartedAt - claim.CreatedAt);
        }

        using var activity = ServiceTelemetry.ActivitySource.StartActivity("calendar.job", ActivityKind.Consumer, parentContext: default,
            tags: [new("calendar.job.session_id", sessionId.ToString()), new("calendar.job.attempt", claim.Attempt)],
            links: ActivityContext.TryParse(claim.Traceparent, null, out var started) ? [new ActivityLink(started)] : null);
        var watch = Stopwatch.StartNew();
        var command = JsonSerializer.Deserialize<Generate.Command>(claim.Request, json.Value.SerializerOptions)!;
        var observer = new Observer(dataSource, store, time, json.Value.SerializerOptions, sessionId, claim.Attempt, settings.MinimumStepDuration);
        try
        {
            switch (await mediator.Send(new Generate.RunForJob(command, observer), cancellationToken))
            {
                case Generate.Outcome.Created:
                    Finish(activity, watch, "completed");
                    break;
                case Generate.Outcome.Replayed replayed:
                    // The start's Idempotency-Key already names a stored calendar: the job ends with it.
                    await store.FinishAsync(sessionId, JobStatus.Completed, error: null, claim.Attempt, CancellationToken.None, replayed.Id);
                    Finish(activity, watch, "completed");
                    break;
                case var refused:
                    // The data says no (no strategy any more, ...): another attempt would answer the same.
                    await store.FinishAsync(sessionId, JobStatus.Failed, Describe(refused), claim.Attempt, CancellationToken.None);
                    Finish(activity, watch, "failed");
                    break;
            }
        }
        catch (RunStoppedException)
        {
            Finish(activity, watch, "stopped");
        }
        catch (ValidationException ex)
        {
            await store.FinishAsync(sessionId, JobStatus.Failed, string.Join(" ", ex.Errors.Select(e => e.ErrorMessage)), claim.Attempt, CancellationToken.None);
            Finish(activity, watch, "failed");
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // This node is shutting down: Hangfire hands the job back to the queue, and the next run is a new attempt.
            Finish(activity, watch, "interrupted");
            throw;
        }
        catch (Exception ex)
        {
            var error = $"{ex.GetType().Name}: {ex.Message}";
            Finish(activity, watch, "error");
            activity?.AddException(ex);
            if (claim.Attempt >= settings.MaxAttempts)
            {
                LogGaveUp(logger, sessionId, claim.Attempt, ex);
                await store.FinishAsync(sessionId, JobStatus.Failed, $"Gave up after {claim.Attempt} attempts: {error}", claim.Attempt, CancellationToken.None);
                return;
            }

            LogRetrying(logger, sessionId, claim.Attempt, ex);
            await using var connection = await dataSource.OpenConnectionAsync(CancellationToken.None);
            await connection.ExecuteAsync(RecordErrorSql, new { Id = sessionId, claim.Attempt, Error = error });
            throw; // Hangfire's automatic retry runs it again after RetryDelay (RetryBudgets).
        }
    }

    private static string Describe(Generate.Outcome outcome) => outcome switch
    {
        Generate.Outcome.NoStrategy none => none.Detail,
        Generate.Outcome.KeyReused reused => Shared.IdempotencyKey.ReusedDetail(reused.Key),
        Generate.Outcome.StrategyDeleted deleted => deleted.Detail,
        Generate.Outcome.ReferenceVanished vanished => vanished.Detail,
        Generate.Outcome.UserDataFull full => full.Detail,
        _ => outcome.ToString(),
    };

    private static void Finish(Activity? activity, Stopwatch watch, string outcome)
    {
        activity?.SetTag("calendar.job.outcome", outcome);
        CalendarJobTelemetry.Ran(watch.Elapsed, outcome);
    }

    /// <summary>Records each step (and paces it when asked), and completes the job in the calendar's transaction.</summary>
    private sealed class Observer(
        NpgsqlDataSource dataSource, CalendarJobStore store, TimeProvider time, JsonSerializerOptions jsonOptions, Guid sessionId, int attempt, TimeSpan minimumStep)
        : IGenerationObserver
    {
        private long _stepStarted = time.GetTimestamp();

        public async Task StepCompletedAsync(IReadOnlyList<Generate.StepResult> steps, CancellationToken cancellationToken)
        {
            var remaining = minimumStep - time.GetElapsedTime(_stepStarted);
            if (remaining > TimeSpan.Zero)
            {
                await Task.Delay(remaining, time, cancellationToken);
            }

            var last = steps[^1];
            var stepsJson = JsonSerializer.Serialize(steps, jsonOptions);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var updated = await connection.ExecuteAsync(new CommandDefinition(ProgressSql,
                new { Id = sessionId, Attempt = attempt, Step = last.StepNumber, Name = last.StepName, Steps = stepsJson }, cancellationToken: cancellationToken));
            if (updated == 0)
            {
                throw new RunStoppedException();
            }

            _stepStarted = time.GetTimestamp();
        }

        public async Task StoringAsync(NpgsqlConnection connection, long calendarId, CancellationToken cancellationToken)
        {
            // In the calendar's transaction: if the job was cancelled or taken over meanwhile, the calendar rolls back.
            if (await store.FinishAsync(connection, sessionId, JobStatus.Completed, calendarId, error: null, attempt, cancellationToken) is null)
            {
                throw new RunStoppedException();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Calendar job {SessionId} attempt {Attempt} failed; Hangfire retries it")]
    private static partial void LogRetrying(ILogger logger, Guid sessionId, int attempt, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Calendar job {SessionId} failed for good after attempt {Attempt}")]
    private static partial void LogGaveUp(ILogger logger, Guid sessionId, int attempt, Exception exception);
}
