using System.Globalization;
using System.Text;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.Features;
using Dapper;
using FluentValidation;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Features.Strategies;

/// <summary>A user's strategies, newest first, with keyset pagination: <c>next_cursor</c> is passed back as <c>cursor</c>.</summary>
public static class ListStrategies
{
    public sealed record Query(string? UserId, int Limit, string? Cursor) : IRequest<Page>;

    public sealed record Page(IReadOnlyList<Strategy> Items, string? NextCursor);

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.Limit).InclusiveBetween(1, 100);
            RuleFor(x => x.Cursor).Must(c => c is null || Cursor.TryDecode(c, out _)).WithMessage("'cursor' is not a cursor this API returned.");
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Page>
    {
        private static readonly string Sql = $"""
            SELECT {Strategy.SelectColumns}
            FROM content_strategies s
            WHERE s.user_id = @UserId
              AND (@HasCursor = false OR (s.created_at, s.id) < (@CursorCreatedAt, @CursorId))
            ORDER BY s.created_at DESC, s.id DESC
            LIMIT @Take
            """;

        public async Task<Page> Handle(Query request, CancellationToken cancellationToken)
        {
            var hasCursor = Cursor.TryDecode(request.Cursor, out var cursor);
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = (await connection.QueryAsync<Strategy>(new CommandDefinition(Sql, new
            {
                request.UserId,
                HasCursor = hasCursor,
                CursorCreatedAt = cursor.CreatedAt,
                CursorId = cursor.Id,
                Take = request.Limit + 1,
            }, cancellationToken: cancellationToken))).ToList();

            string? next = null;
            if (rows.Count > request.Limit)
            {
                rows.RemoveAt(rows.Count - 1);
                next = Cursor.Encode(rows[^1]);
            }

            return new Page(rows, next);
        }
    }

    internal readonly record struct Cursor(DateTimeOffset CreatedAt, long Id)
    {
        // Microsecond ticks match timestamptz precision exactly, so the keyset comparison never skips or repeats a row.
        public static string Encode(Strategy last) => Convert.ToBase64String(Encoding.ASCII.GetBytes(
            FormattableString.Invariant($"{last.CreatedAt.ToUniversalTime().UtcTicks}:{last.Id}")));

        public static bool TryDecode(string? value, out Cursor cursor)
        {
            cursor = new Cursor(DateTimeOffset.MaxValue, long.MaxValue);
            if (string.IsNullOrEmpty(value))
            {
                return false;
            }

            try
            {
                var parts = Encoding.ASCII.GetString(Convert.FromBase64String(value)).Split(':');
                if (parts.Length == 2 &&
                    long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) &&
                    ticks is > 0 and < 3155378975999999999 &&
                    long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    cursor = new Cursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
                    return true;
                }
            }
            catch (FormatException)
            {
            }

            return false;
        }
    }

    internal sealed class Endpoint : IEndpointModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapGet("/strategies", (string? user_id, int? limit, string? cursor, IMediator mediator, CancellationToken ct) =>
                    mediator.Send(new Query(user_id, limit ?? 20, cursor), ct))
                .WithTags("Strategies")
                .WithSummary("List a user's strategies, newest first (keyset pagination)")
                .ProducesValidationProblem();
    }
}
