using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarEvents;

/// <summary>A manual event (optional <c>user_id</c>: the strategy must be that user's). Not part of the comprehensive data: no user cache is invalidated.</summary>
public static class CreateCalendarEvent
{
    public sealed record Command(
        string? UserId, long? StrategyId, string Title, DateTimeOffset ScheduledAt, long? CalendarId, string? Platform, string? ContentType, string? Pillar,
        string? Description, string? Status) : IRequest<CalendarEvent?>, IUserScoped, IOwnedResource
    {
        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => StrategyId;
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId().When(x => x.UserId is not null);
            RuleFor(x => x.StrategyId).NotNull().GreaterThan(0);
            RuleFor(x => x.Title).NotEmpty().MaximumLength(500);
            RuleFor(x => x.ScheduledAt).NotEqual(default(DateTimeOffset)).WithMessage("'scheduled_at' is required.");
            RuleFor(x => x.CalendarId).GreaterThan(0);
            RuleFor(x => x.Status).Must(s => s is "draft" or "scheduled").When(x => x.Status is not null).WithMessage("status must be draft or scheduled.");
            RuleFor(x => x.Platform).MaximumLength(50);
            RuleFor(x => x.ContentType).MaximumLength(100);
            RuleFor(x => x.Pillar).MaximumLength(200);
            RuleFor(x => x.Description).MaximumLength(CalendarEvent.MaxDescriptionLength);
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, CalendarEvent?>
    {
        // One statement: nothing is inserted unless the strategy exists and the calendar (if any) was generated from it.
        private const string Sql = $"""
            WITH inserted AS (
            INSERT INTO calendar_events (strategy_id, calendar_id, title, description, content_type, platform, scheduled_at, status, pillar)
            SELECT s.id, @CalendarId, @Title, @Description, @ContentType, @Platform, @ScheduledAt, coalesce(@Status, 'draft'), @Pillar
            FROM content_strategies s
            WHERE s.id = @StrategyId
              AND (@UserId::text IS NULL OR s.user_id = @UserId)
              AND (@CalendarId::bigint IS NULL OR EXISTS (SELECT 1 FROM generated_calendars c WHERE c.id = @CalendarId AND c.strategy_id = s.id))
            RETURNING {CalendarEvent.SelectColumns})
            SELECT inserted.*, (SELECT user_id FROM content_strategies WHERE id = inserted.strategy_id) AS owner_user_id FROM inserted
            """;

        public async Task<CalendarEvent?> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var created = await connection.QuerySingleOrDefaultAsync<CalendarEvent>(new CommandDefinition(Sql, request with { ScheduledAt = request.ScheduledAt.ToUniversalTime() }, cancellationToken: cancellationToken));
            if (created?.OwnerUserId is { } owner)
            {
                await cache.InvalidateCalendarAsync(owner, cancellationToken);
            }

            return created;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/calendar-events", async Task<Results<Created<CalendarEvent>, ProblemHttpResult>> (Command command, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                await mediator.Send(command with { UserId = user.UserIdOr(command.UserId) }, ct) is { } created
                    ? TypedResults.Created($"{FeatureRegistration.RoutePrefix}/calendar-events/{created.Id}", created)
                    : Problems.NotFound($"Content strategy {command.StrategyId} (or calendar {command.CalendarId} of it) does not exist."))
            .WithSummary("Create a manual calendar event")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesValidationProblem();
}
