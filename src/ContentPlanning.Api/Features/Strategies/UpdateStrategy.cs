using System.Text.Json.Serialization;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Strategies;

/// <summary>Full update: every field is replaced by the body's value (absent means null). The owner (user_id) never changes.</summary>
public static class UpdateStrategy
{
    public sealed class Command : StrategyFields, IRequest<Strategy?>, IOwnedResource
    {
        [JsonIgnore]
        public long Id { get; set; }

        OwnedKind IOwnedResource.Kind => OwnedKind.Strategy;

        long? IOwnedResource.ResourceId => Id;
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator() => Include(new StrategyFieldsValidator());
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, Strategy?>
    {
        private static readonly string Sql = $"""
            UPDATE content_strategies AS s
            SET {string.Join(", ", StrategyFields.Columns.Select(c => $"{c} = {StrategyFields.Parameter(c)}"))},
                completion_percentage = @CompletionPercentage,
                updated_at = now()
            WHERE s.id = @Id
            RETURNING {Strategy.SelectColumns}
            """;

        public async Task<Strategy?> Handle(Command request, CancellationToken cancellationToken)
        {
            var args = new DynamicParameters(request);
            args.Add("CompletionPercentage", request.ComputeCompletionPercentage());
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var updated = await connection.QuerySingleOrDefaultAsync<Strategy>(new CommandDefinition(Sql, args, cancellationToken: cancellationToken));
            if (updated is not null)
            {
                await cache.InvalidateAsync(updated.UserId, UserChange.Strategy, cancellationToken);
            }

            return updated;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPut("/strategies/{id:long}", async Task<Results<Ok<Strategy>, ProblemHttpResult>> (long id, Command command, IMediator mediator, CancellationToken ct) =>
            {
                command.Id = id;
                return await mediator.Send(command, ct) is { } strategy ? TypedResults.Ok(strategy) : Problems.StrategyNotFound(id);
            })
            .WithSummary("Replace every field of a content strategy")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem();
}
