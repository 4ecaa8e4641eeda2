using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

// Every MediatR request declares whose data it touches with one of the markers below; OwnershipBehavior enforces them
// before validation and the handler run, and a test fails for a request type that declares none.

/// <summary>
/// The request acts on the data of <see cref="UserId"/> (from the path, the query or the body; the endpoint puts the
/// token's own user where the caller named none: <see cref="CurrentUser.UserIdOr"/>).
/// </summary>
public interface IUserScoped
{
    string? UserId { get; }
}

/// <summary>The request addresses an object by id; its owner is looked up before the handler runs.</summary>
public interface IOwnedResource
{
    OwnedKind Kind { get; }

    /// <summary>Null when the request names no object (an optional filter left out).</summary>
    long? ResourceId { get; }
}

/// <summary>
/// The request addresses one object by id and its handler's own query keeps to <see cref="CurrentUser.OwnerFilter"/>, so
/// another user's object reads as a missing one without a second round trip for the owner.
/// </summary>
public interface IOwnerFilteredResource;

/// <summary>An operator's request (admin routes, guarded by the admin policy) or the service's own (a job's run), not an end user's.</summary>
public interface IAdminRequest;

/// <summary>The kinds of owned objects, with the wording of their 404 so another user's object reads like a missing one.</summary>
public enum OwnedKind
{
    Strategy,
    GapAnalysis,
    Recommendation,
    Calendar,
    CalendarEvent,
}

/// <summary>Another user's data (or a missing object): answered as 404, exactly as the slice answers a missing one.</summary>
public sealed class NotOwnedException(string detail) : Exception(detail);

/// <summary>
/// The one ownership check: an end user's token (no <see cref="Scopes.AnyUser"/>) may act only on its own user_id and on
/// objects it owns. It only checks: the endpoint has filled in the user (<see cref="CurrentUser"/>).
/// </summary>
internal sealed class OwnershipBehavior<TRequest, TResponse>(CurrentUser user, NpgsqlDataSource dataSource)
    : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (!user.IsRestricted || request is IAdminRequest)
        {
            // Admin routes are guarded by the admin policy (AdminAccess); a request reaching here passed it.
            return await next();
        }

        if (user.Id is not { Length: > 0 } me)
        {
            throw CurrentUser.NoUser();
        }

        if (request is IUserScoped scoped && !string.Equals(scoped.UserId, me, StringComparison.Ordinal))
        {
            throw new NotOwnedException($"User {scoped.UserId} has no data here.");
        }

        // A non-positive id is bad input: the validator answers it (400), not the owner lookup.
        if (request is IOwnedResource { ResourceId: > 0 and var id } owned)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var owner = await connection.QuerySingleOrDefaultAsync<string?>(new CommandDefinition(OwnerSql(owned.Kind), new { Id = id }, cancellationToken: cancellationToken));
            if (!string.Equals(owner, me, StringComparison.Ordinal))
            {
                throw new NotOwnedException(NotFoundDetail(owned.Kind, id));
            }
        }

        return await next();
    }

    /// <summary>The same words the slices use for a missing object (Features/Shared/Problems).</summary>
    public static string NotFoundDetail(OwnedKind kind, long id) => kind switch
    {
        OwnedKind.Strategy => $"Content strategy {id} does not exist.",
        OwnedKind.GapAnalysis => $"Content gap analysis {id} does not exist.",
        OwnedKind.Recommendation => $"Content recommendation {id} does not exist.",
        OwnedKind.Calendar => $"Calendar {id} does not exist.",
        OwnedKind.CalendarEvent => $"Calendar event {id} does not exist.",
        _ => $"Object {id} does not exist.",
    };

    private static string OwnerSql(OwnedKind kind) => kind switch
    {
        OwnedKind.Strategy => StrategyOwnerSql,
        OwnedKind.GapAnalysis => GapAnalysisOwnerSql,
        OwnedKind.Recommendation => RecommendationOwnerSql,
        OwnedKind.Calendar => CalendarOwnerSql,
        OwnedKind.CalendarEvent => CalendarEventOwnerSql,
        _ => throw new InvalidOperationException($"No owner lookup for {kind}."),
    };

    private const string StrategyOwnerSql = "SELECT user_id FROM content_strategies WHERE id = @Id";

    private const string GapAnalysisOwnerSql = "SELECT user_id FROM content_gap_analyses WHERE id = @Id";

    private const string RecommendationOwnerSql = "SELECT user_id FROM content_recommendations WHERE id = @Id";

    private const string CalendarOwnerSql = "SELECT user_id FROM generated_calendars WHERE id = @Id";

    private const string CalendarEventOwnerSql = """
        SELECT s.user_id
        FROM calendar_events e
        JOIN content_strategies s ON s.id = e.strategy_id
        WHERE e.id = @Id
        """;
}
