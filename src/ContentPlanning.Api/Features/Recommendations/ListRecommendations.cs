using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Features.Recommendations;

/// <summary>
/// A user's recommendations, optionally of one status, by priority (high, medium, low) then newest first. Not paginated:
/// at most <c>limit</c> (1..100) rows, the most important ones. Served at <c>/recommendations?user_id=</c> and
/// <c>/users/{user_id}/recommendations</c>.
/// </summary>
public static class ListRecommendations
{
    public sealed record Query(string? UserId, string? Status, int Limit) : IRequest<Response>, IUserScoped;

    public sealed record Response(IReadOnlyList<Recommendation> Items);

    internal sealed class Validator : AbstractValidator<Query>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            RuleFor(x => x.Status).OneOf(RecommendationFields.Statuses);
            RuleFor(x => x.Limit).ValidListLimit();
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, Response>
    {
        private const string Sql = $"""
            SELECT {Recommendation.SelectColumns}
            FROM content_recommendations
            WHERE user_id = @UserId AND (@Status::text IS NULL OR status = @Status)
            ORDER BY CASE priority WHEN 'high' THEN 3 WHEN 'medium' THEN 2 ELSE 1 END DESC, created_at DESC, id DESC
            LIMIT @Limit
            """;

        public async Task<Response> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = await connection.QueryAsync<Recommendation>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
            return new Response(rows.AsList());
        }
    }

    internal static void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/recommendations", (string? user_id, string? status, int? limit, CurrentUser user, IMediator mediator, CancellationToken ct) =>
                mediator.Send(new Query(user.UserIdOr(user_id), status, limit ?? FieldRules.MaxListLimit), ct))
            .WithSummary("List a user's recommendations by priority, then newest first")
            .ProducesValidationProblem();

        app.MapGet("/users/{user_id}/recommendations", (string user_id, string? status, int? limit, IMediator mediator, CancellationToken ct) =>
                mediator.Send(new Query(user_id, status, limit ?? FieldRules.MaxListLimit), ct))
            .WithName("listUserRecommendations")
            .WithSummary("A user's recommendations by priority, then newest first (the /recommendations list with the user in the path)")
            .ProducesValidationProblem();
    }
}
