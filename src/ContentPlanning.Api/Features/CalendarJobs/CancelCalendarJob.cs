using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// Cancels a queued or running job from any node: the row turns cancelled at once (with its webhook enqueued); a
/// running attempt sees it before its next step and stops with nothing stored.
/// </summary>
public static class CancelCalendarJob
{
    public sealed record Command(string SessionId) : IRequest<Outcome>, IUserScoped
    {
        public string? UserId { get; init; }
    }

    /// <summary>What a cancel ended with; the endpoint turns it into its answer.</summary>
    public abstract record Outcome
    {
        /// <summary>The job, now cancelled (200).</summary>
        public sealed record Cancelled(JobView Job) : Outcome;

        /// <summary>No such job of this user (404).</summary>
        public sealed record NotFound : Outcome;

        /// <summary>The job had already ended (409).</summary>
        public sealed record AlreadyEnded(string Status) : Outcome;
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator() =>
            RuleFor(x => x.SessionId).Must(id => Guid.TryParse(id, out _)).WithMessage("session_id must be a UUID.");
    }

    internal sealed class Handler(CalendarJobStore store) : IRequestHandler<Command, Outcome>
    {
        public async Task<Outcome> Handle(Command request, CancellationToken cancellationToken)
        {
            var id = Guid.Parse(request.SessionId);
            if (await store.FindAsync(id, request.UserId, cancellationToken) is null)
            {
                return new Outcome.NotFound();
            }

            if (await store.FinishAsync(id, JobStatus.Cancelled, error: null, attempt: null, cancellationToken) is { } cancelled)
            {
                return new Outcome.Cancelled(cancelled.ToView());
            }

            var current = await store.FindAsync(id, request.UserId, cancellationToken);
            return new Outcome.AlreadyEnded(current?.Status ?? "gone");
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapDelete("/calendar-generation/cancel/{session_id}", async Task<Results<Ok<JobView>, ProblemHttpResult>> (
                        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "session_id")] string sessionId, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                    await mediator.Send(new Command(sessionId) { UserId = user.UserIdOr(null) }, ct) switch
                    {
                        Outcome.Cancelled cancelled => TypedResults.Ok(cancelled.Job),
                        Outcome.AlreadyEnded ended => Problems.Conflict(
                            $"Calendar generation job {sessionId} is already {ended.Status}; only a queued or running job can be cancelled."),
                        _ => CalendarJobProgress.NotFound(sessionId),
                    })
                .WithTags("Calendar jobs")
                .WithSummary("Cancel a queued or running job: it stops before its next step with nothing stored (409 when it already ended)")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status409Conflict)
                .ProducesValidationProblem();
    }
}
