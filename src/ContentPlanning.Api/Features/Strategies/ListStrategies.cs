using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Features.Strategies;

/// <summary>A user's strategies, newest first, with keyset pagination: <c>next_cursor</c> is passed back as <c>cursor</c>.</summary>
public static class ListStrategies
{
    public sealed record Query(string? UserId, int Limit, string? Cursor) : IRequest<Page<Strategy>>, IUserScoped;

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.Limit).ValidListLimit();
            RuleFor(x => x.Cursor).ValidCursor();
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Page<Strategy>>
    {
        private static readonly string Sql = $"""
            SELECT {Strategy.SelectColumns}
            FROM content_strategies s
            WHERE s.user_id = @UserId
              AND (@HasCursor = false OR (s.created_at, s.id) < (@CursorCreatedAt, @CursorId))
            ORDER BY s.created_at DESC, s.id DESC
            LIMIT @Take
            """;

        public async Task<Page<Strategy>> Handle(Query request, CancellationToken cancellationToken)
        {
            var hasCursor = KeysetCursor.TryDecode(request.Cursor, out var cursor);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = (await connection.QueryAsync<Strategy>(new CommandDefinition(Sql, new
            {
                request.UserId,
                HasCursor = hasCursor,
                CursorCreatedAt = cursor.At,
                CursorId = cursor.Id,
                Take = request.Limit + 1,
            }, cancellationToken: cancellationToken))).ToList();

            return KeysetCursor.ToPage(rows, request.Limit, s => (s.CreatedAt, s.Id));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/strategies", (string? user_id, int? limit, string? cursor, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                mediator.Send(new Query(user.UserIdOr(user_id), limit ?? FieldRules.DefaultListLimit, cursor), ct))
            .WithSummary("List a user's strategies, newest first (keyset pagination)")
            .ProducesValidationProblem();
}
