using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>A job's progress on any node: as one answer, or as a server-sent event stream until it ends.</summary>
public static class CalendarJobProgress
{
    /// <summary>The job; an end user sees only their own (their user_id is filled in from the token).</summary>
    public sealed record Query(string SessionId) : IRequest<JobView?>, IUserScoped
    {
        public string? UserId { get; set; }
    }

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator() =>
            RuleFor(x => x.SessionId).Must(id => Guid.TryParse(id, out _)).WithMessage("session_id must be a UUID.");
    }

    internal sealed class Handler(CalendarJobStore store) : IRequestHandler<Query, JobView?>
    {
        public async Task<JobView?> Handle(Query request, CancellationToken cancellationToken) =>
            (await store.FindAsync(Guid.Parse(request.SessionId), request.UserId, cancellationToken))?.ToView();
    }

    internal static ProblemHttpResult NotFound(string sessionId) => Problems.NotFound($"Calendar generation job {sessionId} does not exist.");

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            app.MapGet("/calendar-generation/progress/{session_id}", async Task<Results<Ok<JobView>, ProblemHttpResult>> (
                        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "session_id")] string sessionId, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Query(sessionId), ct) is { } job ? TypedResults.Ok(job) : NotFound(sessionId))
                .WithName("getCalendarJobProgress")
                .WithTags("Calendar jobs")
                .WithSummary("A calendar generation job's status, steps so far, calendar id or error, and webhook delivery")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesValidationProblem();

            app.MapGet("/calendar-generation/progress/{session_id}/stream", async Task<Results<ServerSentEventsResult<string>, ProblemHttpResult>> (
                        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "session_id")] string sessionId, IMediator mediator, CalendarJobStore store,
                        JobEventListener listener, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken ct) =>
                {
                    // The same lookup (ownership, validation) as the progress answer decides 404/400 before the stream opens.
                    if (await mediator.Send(new Query(sessionId), ct) is not { } job)
                    {
                        return NotFound(sessionId);
                    }

                    return TypedResults.ServerSentEvents(Events(job, store, listener, json.Value.SerializerOptions, ct));
                })
                .WithName("streamCalendarJobProgress")
                .WithTags("Calendar jobs")
                .WithSummary("Server-sent events: one 'step' event per completed step, then 'completed', 'failed' or 'cancelled', then the stream ends")
                .Produces<string>(StatusCodes.Status200OK, "text/event-stream")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesValidationProblem();
        }
    }

    /// <summary>What happened so far, then every change as it is committed (any node's: PostgreSQL NOTIFY), until the job ends.</summary>
    internal static async IAsyncEnumerable<SseItem<string>> Events(
        JobView first, CalendarJobStore store, JobEventListener listener, JsonSerializerOptions options, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var changes = listener.Subscribe(first.SessionId);
        var job = first;
        var attempt = 0;
        var sent = 0;
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
                yield return new SseItem<string>(step.ToJsonString(options), "step");
            }

            if (job.IsFinished)
            {
                yield return new SseItem<string>(JsonSerializer.Serialize(new
                {
                    job.SessionId,
                    job.Status,
                    job.CalendarId,
                    job.Error,
                }, options), job.Status);
                yield break;
            }

            // Woken by the job's NOTIFY; the timeout only covers a notification lost while the listener reconnected.
            await changes.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken);
            job = (await store.FindAsync(job.SessionId, userId: null, cancellationToken))?.ToView() ?? job with { Status = JobStatus.Cancelled };
        }
    }
}
