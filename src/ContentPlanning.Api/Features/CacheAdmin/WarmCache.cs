using System.Collections.Concurrent;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using FluentValidation;
using MediatR;
using Microsoft.Extensions.Options;
using Comprehensive = ContentPlanning.Api.Features.GetComprehensiveUserData.GetComprehensiveUserData;

namespace ContentPlanning.Api.Features.CacheAdmin;

/// <summary>
/// Precomputes comprehensive data and the active strategy (the two per-user reads planning makes) for many users, a few
/// at a time; one user's failure never stops the others. The outcome reports the comprehensive data's.
/// </summary>
public static partial class WarmCache
{
    public sealed record Command(IReadOnlyList<string>? UserIds) : IRequest<Response>, IAdminRequest;

    public sealed record Response(int Requested, int Warmed, int NotFound, int Failed, IReadOnlyList<Outcome> Results);

    public sealed record Outcome(string UserId, string Status, string? Source, string? Error);

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserIds).NotNull().Must(ids => ids is { Count: >= 1 and <= 1000 })
                .WithMessage("'user_ids' must hold 1 to 1000 user ids.");
            RuleForEach(x => x.UserIds).ValidUserId();
        }
    }

    internal sealed partial class Handler(IServiceScopeFactory scopes, IOptions<CacheAdminOptions> options, ILogger<Handler> logger) : IRequestHandler<Command, Response>
    {
        public async Task<Response> Handle(Command request, CancellationToken cancellationToken)
        {
            var userIds = request.UserIds!.Distinct(StringComparer.Ordinal).ToList();
            var outcomes = new ConcurrentDictionary<string, Outcome>(StringComparer.Ordinal);
            await Parallel.ForEachAsync(
                userIds,
                new ParallelOptions { MaxDegreeOfParallelism = options.Value.WarmParallelism, CancellationToken = cancellationToken },
                async (userId, ct) => outcomes[userId] = await WarmOneAsync(userId, ct));

            var results = userIds.Select(id => outcomes[id]).ToList();
            return new Response(
                userIds.Count,
                results.Count(r => r.Status == "warmed"),
                results.Count(r => r.Status == "not_found"),
                results.Count(r => r.Status == "failed"),
                results);
        }

        private async Task<Outcome> WarmOneAsync(string userId, CancellationToken cancellationToken)
        {
            try
            {
                // Each user in its own scope, as a request would be.
                await using var scope = scopes.CreateAsyncScope();
                var mediator = scope.ServiceProvider.GetRequiredService<IMediator>();
                var response = await mediator.Send(new Comprehensive.Query(userId, null, ForceRefresh: false), cancellationToken);
                if (response is not null)
                {
                    await WarmActiveStrategyAsync(mediator, userId, cancellationToken);
                }
                return response is null
                    ? new Outcome(userId, "not_found", null, null)
                    : new Outcome(userId, "warmed", response.CacheInfo.Source, null);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogWarmFailed(logger, userId, ex);
                return new Outcome(userId, "failed", null, ex is Npgsql.NpgsqlException ? "database unavailable" : ex.GetType().Name);
            }
        }

        // Best effort beside the comprehensive data, whose outcome the answer reports: a user whose comprehensive data was
        // warmed (even from a cache tier while the database is down) is reported warmed.
        private async Task WarmActiveStrategyAsync(IMediator mediator, string userId, CancellationToken cancellationToken)
        {
            try
            {
                await mediator.Send(new GetActiveStrategy.GetActiveStrategy.Query(userId, ForceRefresh: false), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogActiveWarmFailed(logger, userId, ex);
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Warming the active strategy of {UserId} failed")]
        private static partial void LogActiveWarmFailed(ILogger logger, string userId, Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Warming comprehensive data of {UserId} failed")]
        private static partial void LogWarmFailed(ILogger logger, string userId, Exception exception);
    }

    internal static void Map(IEndpointRouteBuilder group) =>
        group.MapPost("/warm", (Command command, IMediator mediator, CancellationToken ct) => mediator.Send(command, ct))
            .WithSummary("Precompute comprehensive data for up to 1000 users")
            .RequireRateLimiting(Infrastructure.Http.RateLimits.CacheWarm)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesValidationProblem();
}
