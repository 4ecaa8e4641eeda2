using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.UserProfiles;

public static class GetUserProfile
{
    public sealed record Query(string UserId) : IRequest<UserProfile?>, IUserScoped;

    internal sealed class Handler(NpgsqlDataSource dataSource) : IRequestHandler<Query, UserProfile?>
    {
        private const string Sql = $"SELECT {UserProfile.SelectColumns} FROM user_profiles WHERE user_id = @UserId";

        public async Task<UserProfile?> Handle(Query request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            return await connection.QuerySingleOrDefaultAsync<UserProfile>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
        }
    }

    // A malformed user_id cannot have a profile: 404, like any absent one, without a database round trip.
    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapGet("/users/{user_id}/profile", async Task<Results<Ok<UserProfile>, ProblemHttpResult>> (string user_id, IMediator mediator, CancellationToken ct) =>
                UserIdRules.IsValid(user_id) && await mediator.Send(new Query(user_id), ct) is { } profile
                    ? TypedResults.Ok(profile)
                    : Problems.ProfileNotFound(user_id))
            .WithSummary("Read a user's onboarding profile")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
