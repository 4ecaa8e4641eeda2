using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>A job's progress on any node, as one answer (the stream: <see cref="ProgressStream"/>).</summary>
public static class CalendarJobProgress
{
    /// <summary>The job; an end user sees only their own (their user_id is filled in from the token).</summary>
    public sealed record Query(string SessionId) : IRequest<JobView?>, IUserScoped
    {
        public string? UserId { get; init; }
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
                        [Microsoft.AspNetCore.Mvc.FromRoute(Name = "session_id")] string sessionId, CurrentUser user, IMediator mediator, StreamTickets tickets, CancellationToken ct) =>
                    await mediator.Send(new Query(sessionId) { UserId = user.UserIdOr(null) }, ct) is { } job ? TypedResults.Ok(job with { StreamTicket = await tickets.IssueAsync(job) }) : NotFound(sessionId))
                .WithName("getCalendarJobProgress")
                .WithTags("Calendar jobs")
                .WithSummary("A calendar generation job's status, steps so far, calendar id or error, and webhook delivery")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesValidationProblem();
        }
    }
}
