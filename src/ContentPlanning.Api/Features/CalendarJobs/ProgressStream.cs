using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Carter;
using ContentPlanning.Api.Infrastructure.Hosting;
using ContentPlanning.Api.Infrastructure.Security;
using MediatR;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// A job's progress as server-sent events, fit for proxies and rollouts: the headers go out at once (before the job
/// starts), a comment every <c>CalendarJobs__StreamHeartbeat</c> keeps an idle stream alive through a proxy's read
/// timeout, every event has an <c>id</c> and a reconnect with <c>Last-Event-ID</c> (on any node) continues after it, a
/// reconnect after the final event answers 204 (EventSource stops), and the stream ends when the node stops so that it
/// drains in seconds and the client resumes elsewhere. Event names and data are unchanged: <c>step</c> per step, then
/// <c>completed</c>, <c>failed</c> or <c>cancelled</c>.
/// </summary>
public static partial class ProgressStream
{
    /// <summary>How long a browser waits before reconnecting (the <c>retry:</c> field).</summary>
    public static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(2);

    // A notification lost while the listener reconnected costs at most this; after a failed re-read, the next one is sooner.
    private static readonly TimeSpan Reread = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RereadAfterError = TimeSpan.FromSeconds(1);

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/calendar-generation/progress/{session_id}/stream", async Task<Results<EventStream, NoContent, ProblemHttpResult>> (
                        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "session_id")] string sessionId,
                        [Microsoft.AspNetCore.Mvc.FromHeader(Name = "Last-Event-ID")] string? lastEventId,
                        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "last_event_id")] string? lastEventIdQuery,
                        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "ticket")] string? ticket,
                        CurrentUser user, IMediator mediator, IHostApplicationLifetime lifetime, CancellationToken ct) =>
                {
                    _ = ticket; // read by the StreamTicket authentication scheme; declared here for the OpenAPI document.

                    // The same lookup (ownership, validation) as the progress answer decides 404/400 before the stream opens.
                    if (await mediator.Send(new CalendarJobProgress.Query(sessionId) { UserId = user.UserIdOr(null) }, ct) is not { } job)
                    {
                        return CalendarJobProgress.NotFound(sessionId);
                    }

                    if (lifetime.ApplicationStopping.IsCancellationRequested)
                    {
                        // A node that drains takes no new stream: a balancer passes the 503 on to another node.
                        return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Node stopping",
                            detail: "This node is shutting down; reconnect (another node serves the stream).");
                    }

                    var cursor = Cursor.Parse(lastEventId ?? lastEventIdQuery);
                    return cursor.SawEnd ? TypedResults.NoContent() : new EventStream(job, cursor);
                })
                .WithName("streamCalendarJobProgress")
                .WithTags("Calendar jobs")
                .WithSummary("Server-sent events: one 'step' event per completed step, then 'completed', 'failed' or 'cancelled', then the stream ends")
                .WithDescription("""
                    Every event has an id; a reconnect with Last-Event-ID (header, or last_event_id in the query) continues after
                    it on any node, and after the final event answers 204. An idle stream sends a comment line every
                    CalendarJobs__StreamHeartbeat. A browser's EventSource passes the job's stream_ticket as ?ticket= instead of a token.
                    """)
                .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
                .Produces(StatusCodes.Status204NoContent)
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
                .ProducesValidationProblem();
    }

    /// <summary>Where a client is: the attempt and the steps of it already received, or the final event.</summary>
    internal readonly record struct Cursor(int Attempt, int Sent, bool SawEnd)
    {
        public static Cursor Parse(string? lastEventId)
        {
            var parts = lastEventId?.Split('.');
            if (parts is not [var attempt, var rest] || !int.TryParse(attempt, NumberStyles.None, CultureInfo.InvariantCulture, out var a))
            {
                return default;
            }

            return rest == "end" ? new Cursor(a, 0, true)
                : int.TryParse(rest, NumberStyles.None, CultureInfo.InvariantCulture, out var sent) && sent <= JobView.Steps ? new Cursor(a, sent, false)
                : default;
        }

        public static string StepId(int attempt, int step) => string.Create(CultureInfo.InvariantCulture, $"{attempt}.{step}");

        public static string EndId(int attempt) => string.Create(CultureInfo.InvariantCulture, $"{attempt}.end");
    }

    /// <summary>The stream as a result: written here, not by SseFormatter, because it must send comments and flush early.</summary>
    public sealed class EventStream : IResult
    {
        private readonly JobView _first;
        private readonly Cursor _cursor;

        internal EventStream(JobView first, Cursor cursor)
        {
            _first = first;
            _cursor = cursor;
        }

        public async Task ExecuteAsync(HttpContext httpContext)
        {
            var services = httpContext.RequestServices;
            var response = httpContext.Response;
            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache, no-store";
            response.Headers["X-Accel-Buffering"] = "no";
            response.Headers.ContentEncoding = "identity";
            httpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();

            var stopping = services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping;
            using var ended = CancellationTokenSource.CreateLinkedTokenSource(httpContext.RequestAborted, stopping);
            var writer = new Writer(response, services.GetRequiredService<IOptions<CalendarJobsOptions>>().Value.StreamHeartbeat);
            try
            {
                // Headers and the reconnect hint at once: a proxy sees an answer even while the job waits in the queue.
                var node = services.GetRequiredService<NodeIdentity>().Id;
                await writer.WriteAsync($"retry: {(int)ReconnectDelay.TotalMilliseconds}\n: node {node}\n\n", ended.Token);
                await RunAsync(writer, services, ended.Token);
            }
            catch (Exception ex) when (ended.IsCancellationRequested && ex is OperationCanceledException or IOException or NpgsqlException)
            {
                // The client left, or this node stops: the client reconnects (with Last-Event-ID) to a node that runs.
            }
        }

        private async Task RunAsync(Writer writer, IServiceProvider services, CancellationToken cancellationToken)
        {
            var store = services.GetRequiredService<CalendarJobStore>();
            var options = services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ProgressStream).FullName!);
            using var changes = services.GetRequiredService<JobEventListener>().Subscribe(_first.SessionId);
            var job = _first;
            var (attempt, sent) = (_cursor.Attempt, _cursor.Sent);
            var wait = Reread;
            while (true)
            {
                if (job.Attempt != attempt)
                {
                    // A new attempt (a takeover or a retry) starts from step 1 again.
                    attempt = job.Attempt;
                    sent = 0;
                }

                var steps = job.StepResults.AsArray();
                for (; sent < steps.Count; sent++)
                {
                    var step = steps[sent]!.DeepClone().AsObject();
                    step["attempt"] = attempt;
                    await writer.EventAsync(Cursor.StepId(attempt, sent + 1), "step", step.ToJsonString(options), cancellationToken);
                }

                if (job.IsFinished)
                {
                    var final = JsonSerializer.Serialize(new { job.SessionId, job.Status, job.CalendarId, job.Error }, options);
                    await writer.EventAsync(Cursor.EndId(attempt), job.Status, final, cancellationToken);
                    return;
                }

                // Woken by the job's NOTIFY (any node's commit); the timeout covers a notification lost while the listener
                // reconnected, and the heartbeat.
                await changes.WaitAsync(writer.UntilHeartbeat(wait), cancellationToken);
                await writer.HeartbeatIfDueAsync(cancellationToken);
                try
                {
                    job = (await store.FindAsync(job.SessionId, userId: null, cancellationToken))?.ToView() ?? job with { Status = JobStatus.Cancelled };
                    wait = Reread;
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException && !cancellationToken.IsCancellationRequested)
                {
                    // One failed re-read (a broken pooled connection, a database restart) must not cut the stream: the job
                    // goes on, so the stream does too, reading again soon; the heartbeat keeps the client meanwhile.
                    LogRereadFailed(logger, job.SessionId, ex.Message);
                    wait = RereadAfterError;
                }
            }
        }
    }

    /// <summary>Writes SSE text and flushes each piece; remembers when it last wrote, for the heartbeat.</summary>
    private sealed class Writer(HttpResponse response, TimeSpan heartbeat)
    {
        private long _lastWrite = Stopwatch.GetTimestamp();

        public TimeSpan UntilHeartbeat(TimeSpan atMost)
        {
            var due = heartbeat - Stopwatch.GetElapsedTime(_lastWrite);
            return due <= TimeSpan.Zero ? TimeSpan.Zero : due < atMost ? due : atMost;
        }

        public Task HeartbeatIfDueAsync(CancellationToken cancellationToken) =>
            Stopwatch.GetElapsedTime(_lastWrite) >= heartbeat ? WriteAsync(": heartbeat\n\n", cancellationToken) : Task.CompletedTask;

        public Task EventAsync(string id, string type, string data, CancellationToken cancellationToken)
        {
            var text = new StringBuilder().Append("id: ").Append(id).Append("\nevent: ").Append(type).Append('\n');
            foreach (var line in data.Split('\n'))
            {
                text.Append("data: ").Append(line).Append('\n');
            }

            return WriteAsync(text.Append('\n').ToString(), cancellationToken);
        }

        public async Task WriteAsync(string text, CancellationToken cancellationToken)
        {
            await response.WriteAsync(text, cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
            _lastWrite = Stopwatch.GetTimestamp();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Progress stream of job {SessionId}: re-reading the job failed ({Detail}); the stream goes on")]
    private static partial void LogRereadFailed(ILogger logger, Guid sessionId, string detail);
}
