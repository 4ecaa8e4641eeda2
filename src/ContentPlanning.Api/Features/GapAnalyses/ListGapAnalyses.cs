using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Features.GapAnalyses;

/// <summary>A user's gap analyses, newest first, with keyset pagination: <c>next_cursor</c> is passed back as <c>cursor</c>.</summary>
public static class ListGapAnalyses
{
    public sealed record Query(string? UserId, int Limit, string? Cursor) : IRequest<Page<GapAnalysis>>, IUserScoped;

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.Limit).ValidListLimit();
            RuleFor(x => x.Cursor).ValidCursor();
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Page<GapAnalysis>>
    {
        private const string Sql = $"""
            SELECT {GapAnalysis.SelectColumns}
            FROM content_gap_analyses
            WHERE user_id = @UserId
              AND (@HasCursor = false OR (created_at, id) < (@CursorAt, @CursorId))
            ORDER BY created_at DESC, id DESC
            LIMIT @Take
            """;

        public async Task<Page<GapAnalysis>> Handle(Query request, CancellationToken cancellationToken)
        {
            var hasCursor = KeysetCursor.TryDecode(request.Cursor, out var cursor);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = (await connection.QueryAsync<GapAnalysis>(new CommandDefinition(Sql, new
            {
                request.UserId,
                HasCursor = hasCursor,
                CursorAt = cursor.At,
                CursorId = cursor.Id,
                Take = request.Limit + 1,
            }, cancellationToken: cancellationToken))).ToList();

            return KeysetCursor.ToPage(rows, request.Limit, a => (a.CreatedAt, a.Id));
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/gap-analysis", (string? user_id, int? limit, string? cursor, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                mediator.Send(new Query(user.UserIdOr(user_id), limit ?? FieldRules.DefaultListLimit, cursor), ct))
            .WithSummary("List a user's gap analyses, newest first (keyset pagination)")
            .ProducesValidationProblem();
}
