using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Strategies;

public static class CreateStrategy
{
    public sealed class Command : StrategyFields, IRequest<Strategy>, IUserScoped
    {
        public string? UserId { get; set; }
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            Include(new StrategyFieldsValidator());
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, Strategy>
    {
        private static readonly string Sql = $"""
            INSERT INTO content_strategies AS s (user_id, {string.Join(", ", StrategyFields.Columns)}, completion_percentage)
            VALUES (@UserId, {string.Join(", ", StrategyFields.Columns.Select(StrategyFields.Parameter))}, @CompletionPercentage)
            RETURNING {Strategy.SelectColumns}
            """;

        public async Task<Strategy> Handle(Command request, CancellationToken cancellationToken)
        {
            var args = new DynamicParameters(request);
            args.Add("CompletionPercentage", request.ComputeCompletionPercentage());
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var created = await connection.QuerySingleAsync<Strategy>(new CommandDefinition(Sql, args, cancellationToken: cancellationToken));
            await cache.InvalidateAsync(created.UserId, UserChange.Strategy, cancellationToken);
            return created;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPost("/strategies", async Task<Created<Strategy>> (Command command, CurrentUser user, IMediator mediator, CancellationToken ct) =>
            {
                command.UserId = user.UserIdOr(command.UserId);
                var strategy = await mediator.Send(command, ct);
                return TypedResults.Created($"{Infrastructure.RequestPipeline.FeatureRegistration.RoutePrefix}/strategies/{strategy.Id}", strategy);
            })
            .WithSummary("Create a content strategy")
            .ProducesValidationProblem();
}
