using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarEvents;

/// <summary>Replaces an event's editable fields; a status change must be an allowed move (409 otherwise).</summary>
public static class UpdateCalendarEvent
{
    public sealed record Command(
        long Id, string Title, DateTimeOffset ScheduledAt, string Status, string? Platform, string? ContentType, string? Pillar, string? Description)
        : IRequest<WriteOutcome<CalendarEvent>>, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.CalendarEvent;

        long? IOwnedResource.ResourceId => Id;
    }

    public sealed record Body(string Title, DateTimeOffset ScheduledAt, string Status, string? Platform, string? ContentType, string? Pillar, string? Description);

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.Title).NotEmpty().MaximumLength(500);
            RuleFor(x => x.ScheduledAt).NotEqual(default(DateTimeOffset)).WithMessage("'scheduled_at' is required.");
            RuleFor(x => x.Status).Must(s => CalendarEvent.Statuses.Contains(s)).WithMessage("status must be draft, scheduled, published or cancelled.");
            RuleFor(x => x.Platform).MaximumLength(50);
            RuleFor(x => x.ContentType).MaximumLength(100);
            RuleFor(x => x.Pillar).MaximumLength(200);
            RuleFor(x => x.Description).MaximumLength(CalendarEvent.MaxDescriptionLength);
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, WriteOutcome<CalendarEvent>>
    {
        // The row is locked while the move is checked, so two concurrent moves cannot both pass from the same state.
        private const string CurrentSql = """
            SELECT e.status, s.user_id
            FROM calendar_events e JOIN content_strategies s ON s.id = e.strategy_id
            WHERE e.id = @Id
            FOR UPDATE OF e
            """;

        private const string UpdateSql = $"""
            UPDATE calendar_events
            SET title = @Title, scheduled_at = @ScheduledAt, status = @Status, platform = @Platform, content_type = @ContentType,
                pillar = @Pillar, description = @Description, updated_at = now()
            WHERE id = @Id
            RETURNING {CalendarEvent.SelectColumns}
            """;

        public async Task<WriteOutcome<CalendarEvent>> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var row = await connection.QuerySingleOrDefaultAsync<(string Status, string UserId)?>(new CommandDefinition(CurrentSql, request, transaction, cancellationToken: cancellationToken));
            if (row is not { Status: var current, UserId: var owner })
            {
                return Problems.NotFound($"Calendar event {request.Id} does not exist.");
            }

            if (!CalendarEvent.CanMove(current, request.Status))
            {
                return Problems.Conflict($"A calendar event cannot move from '{current}' to '{request.Status}'.");
            }

            var updated = await connection.QuerySingleAsync<CalendarEvent>(new CommandDefinition(UpdateSql, request with { ScheduledAt = request.ScheduledAt.ToUniversalTime() }, transaction, cancellationToken: cancellationToken));
            await transaction.CommitAsync(cancellationToken);
            await cache.InvalidateCalendarAsync(owner, cancellationToken);
            return updated;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPut("/calendar-events/{id:long}", async Task<Results<Ok<CalendarEvent>, ProblemHttpResult>> (long id, Body body, IMediator mediator, CancellationToken ct) =>
                (await mediator.Send(new Command(id, body.Title, body.ScheduledAt, body.Status, body.Platform, body.ContentType, body.Pillar, body.Description), ct))
                    .ToResult(TypedResults.Ok))
            .WithSummary("Update a calendar event (status moves: draft -> scheduled -> published, non-published -> cancelled)")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem();
}
