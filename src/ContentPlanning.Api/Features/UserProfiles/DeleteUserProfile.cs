using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.UserProfiles;

public static class DeleteUserProfile
{
    public sealed record Command(string UserId) : IRequest<bool>, IUserScoped;

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, bool>
    {
        private const string Sql = "DELETE FROM user_profiles WHERE user_id = @UserId RETURNING user_id";

        public async Task<bool> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var owner = await connection.QuerySingleOrDefaultAsync<string>(new CommandDefinition(Sql, request, cancellationToken: cancellationToken));
            return await cache.InvalidateDeletedAsync(owner, UserChange.Data, cancellationToken);
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapDelete("/users/{user_id}/profile", async Task<Results<NoContent, ProblemHttpResult>> (string user_id, IMediator mediator, CancellationToken ct) =>
                UserIdRules.IsValid(user_id) && await mediator.Send(new Command(user_id), ct) ? TypedResults.NoContent() : Problems.ProfileNotFound(user_id))
            .WithSummary("Delete a user's onboarding profile")
            .ProducesProblem(StatusCodes.Status404NotFound);
}
