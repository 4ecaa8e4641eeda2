using System.Collections.Concurrent;
using System.Reflection;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Features;

// Every MediatR request declares whose data it touches with one of the three markers below; OwnershipBehavior enforces
// them before validation and the handler run, and a test fails for a request type that declares none.

/// <summary>The request acts on the data of <see cref="UserId"/> (from the path, the query or the body).</summary>
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

/// <summary>An operator's request (admin routes, guarded by the admin policy) or the service's own (a job's run), not an end user's.</summary>
public interface IAdminRequest;

/// <summary>The kinds of owned objects, with the wording of their 404 so another user's object reads like a missing one.</summary>
public enum OwnedKind
{
    Strategy,
    GapAnalysis,
    Recommendation,
    AnalyticsRecord,
    Calendar,
    CalendarEvent,
}

/// <summary>Another user's data (or a missing object): answered as 404, exactly as the slice answers a missing one.</summary>
public sealed class NotOwnedException(string detail) : Exception(detail);

/// <summary>
/// The one ownership check: an end user's token (no <see cref="Scopes.AnyUser"/>) may act only on its own user_id and on
/// objects it owns. A user-scoped request that names no user_id acts for the token's user.
/// </summary>
internal sealed class OwnershipBehavior<TRequest, TResponse>(CallerAccessor callers, NpgsqlDataSource dataSource)
    : IPipelineBehavior<TRequest, TResponse>
{
    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        if (callers.Current() is not { } caller)
        {
            return await next();
        }

        if (request is IAdminRequest)
        {
            // Admin routes are guarded by the admin policy (AdminAccess); a request reaching here passed it.
            return await next();
        }

        if (caller.UserId is not { Length: > 0 } me)
        {
            throw new NotOwnedException($"The token names no user (claim missing); it may act for no user.");
        }

        if (request is IUserScoped scoped)
        {
            if (string.IsNullOrEmpty(scoped.UserId))
            {
                UserIdSetter.Fill(request!, me);
            }
            else if (!string.Equals(scoped.UserId, me, StringComparison.Ordinal))
            {
                throw new NotOwnedException($"User {scoped.UserId} has no data here.");
            }
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
        OwnedKind.AnalyticsRecord => $"Content analytics record {id} does not exist.",
        OwnedKind.Calendar => $"Calendar {id} does not exist.",
        OwnedKind.CalendarEvent => $"Calendar event {id} does not exist.",
        _ => $"Object {id} does not exist.",
    };

    private static string OwnerSql(OwnedKind kind) => kind switch
    {
        OwnedKind.Strategy => StrategyOwnerSql,
        OwnedKind.GapAnalysis => GapAnalysisOwnerSql,
        OwnedKind.Recommendation => RecommendationOwnerSql,
        OwnedKind.AnalyticsRecord => AnalyticsOwnerSql,
        OwnedKind.Calendar => CalendarOwnerSql,
        OwnedKind.CalendarEvent => CalendarEventOwnerSql,
        _ => throw new InvalidOperationException($"No owner lookup for {kind}."),
    };

    private const string StrategyOwnerSql = "SELECT user_id FROM content_strategies WHERE id = @Id";

    private const string GapAnalysisOwnerSql = "SELECT user_id FROM content_gap_analyses WHERE id = @Id";

    private const string RecommendationOwnerSql = "SELECT user_id FROM content_recommendations WHERE id = @Id";

    private const string AnalyticsOwnerSql = "SELECT user_id FROM content_analytics WHERE id = @Id";

    private const string CalendarOwnerSql = "SELECT user_id FROM generated_calendars WHERE id = @Id";

    private const string CalendarEventOwnerSql = """
        SELECT s.user_id
        FROM calendar_events e
        JOIN content_strategies s ON s.id = e.strategy_id
        WHERE e.id = @Id
        """;
}

/// <summary>Writes the token's user into a request that left user_id out (records' init-only properties included).</summary>
internal static class UserIdSetter
{
    private static readonly ConcurrentDictionary<Type, PropertyInfo?> Properties = new();

    public static void Fill(object request, string userId)
    {
        var property = Properties.GetOrAdd(request.GetType(), static t => t.GetProperty(nameof(IUserScoped.UserId)) is { CanWrite: true } p ? p : null)
            ?? throw new InvalidOperationException($"{request.GetType()} declares IUserScoped but its UserId cannot be set.");
        property.SetValue(request, userId);
    }
}
