using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Transactions;
using Carter;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using ContentPlanning.Api.Infrastructure.Security;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Npgsql;
using Generate = ContentPlanning.Api.Features.GenerateCalendar.GenerateCalendar;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// Starts a calendar generation as a durable job: the job's row and its Hangfire work item are written in one
/// transaction, so a job exists exactly when the 202 was sent. One queued or running job per user.
/// </summary>
public static class StartCalendarJob
{
    /// <summary>The generate-calendar body plus an optional callback_url.</summary>
    public sealed record Command(
        string? UserId, long? StrategyId, string CalendarType, DateOnly? StartDate, string? Timezone, string? BusinessSize,
        IReadOnlyList<string>? Platforms, int? PiecesPerDay, bool? ForceRefresh, string? CallbackUrl) : IRequest<Outcome>, IUserScoped
    {
        /// <summary>The Idempotency-Key header.</summary>
        [JsonIgnore]
        public string? IdempotencyKey { get; init; }

        /// <summary>The request the job's runs send (stored with the job).</summary>
        public Generate.Command ToGenerate() =>
            new(UserId, StrategyId, CalendarType, StartDate, Timezone, BusinessSize, Platforms, PiecesPerDay, ForceRefresh) { IdempotencyKey = IdempotencyKey };
    }

    /// <summary>What a start ended with; the endpoint turns it into its answer.</summary>
    public abstract record Outcome
    {
        /// <summary>A new job (202).</summary>
        public sealed record Started(JobView Job) : Outcome;

        /// <summary>The user's queued or running job, or the job started earlier with this Idempotency-Key (200).</summary>
        public sealed record Existing(JobView Job) : Outcome;

        /// <summary>The user has no content strategy, or not the one named (404).</summary>
        public sealed record NoStrategy(string Detail) : Outcome;

        /// <summary>The Idempotency-Key was used with another request (422).</summary>
        public sealed record KeyReused(string Key) : Outcome;
    }

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator(IValidator<Generate.Command> generate, IOptions<WebhookOptions> webhooks)
        {
            // Exactly the rules of generate-calendar, with the same field names.
            RuleFor(x => x).CustomAsync(async (command, context, ct) =>
            {
                foreach (var failure in (await generate.ValidateAsync(command.ToGenerate(), ct)).Errors)
                {
                    context.AddFailure(failure);
                }
            });
            RuleFor(x => x.CallbackUrl).Cascade(CascadeMode.Stop).MaximumLength(2048)
                .Must(_ => webhooks.Value.SigningSecret is { Length: > 0 }).WithMessage("callback_url: this service has no Webhooks__SigningSecret, so it sends no webhooks.")
                .Must(url => CallbackAddresses.FormProblem(url!, webhooks.Value) is null).WithMessage(x => CallbackAddresses.FormProblem(x.CallbackUrl!, webhooks.Value))
                .CustomAsync(async (url, context, ct) =>
                {
                    try
                    {
                        await CallbackAddresses.CheckAsync(new Uri(url!), webhooks.Value, ct);
                    }
                    catch (CallbackRefusedException ex)
                    {
                        context.AddFailure(ex.Message);
                    }
                })
                .When(x => x.CallbackUrl is not null);
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, HangfireQueue queue, IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json)
        : IRequestHandler<Command, Outcome>
    {
        // Starts of one user queue here, so "one active job per user" and the key lookup see every committed start.
        private const string LockSql = "SELECT pg_advisory_xact_lock(hashtextextended('calendar-job:' || @UserId, 0))";

        private const string KeySql = $"SELECT request_hash, {CalendarJobStore.Columns} FROM calendar_jobs WHERE user_id = @UserId AND idempotency_key = @Key";

        private const string ActiveSql = $"SELECT {CalendarJobStore.Columns} FROM calendar_jobs WHERE user_id = @UserId AND status IN ('queued', 'running')";

        // The owner check too: another user's strategy_id reads as a missing one (no separate owner lookup).
        private const string StrategyExistsSql = "SELECT EXISTS (SELECT 1 FROM content_strategies WHERE user_id = @UserId AND (@StrategyId::bigint IS NULL OR id = @StrategyId))";

        private const string InsertSql = $"""
            INSERT INTO calendar_jobs (session_id, user_id, strategy_id, request, request_hash, idempotency_key, callback_url, traceparent)
            VALUES (@Id, @UserId, @StrategyId, @Request::jsonb, @Hash, @Key, @CallbackUrl, @Traceparent)
            RETURNING {CalendarJobStore.Columns}
            """;

        public async Task<Outcome> Handle(Command request, CancellationToken cancellationToken)
        {
            var requestJson = JsonSerializer.Serialize(request.ToGenerate(), json.Value.SerializerOptions);
            var hash = IdempotencyKey.Hash(requestJson + "\n" + request.CallbackUrl);
            using var scope = AmbientTransaction.Begin();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            connection.EnlistTransaction(Transaction.Current);
            var args = new { request.UserId, request.StrategyId, Key = request.IdempotencyKey };
            await connection.ExecuteAsync(new CommandDefinition(LockSql, args, cancellationToken: cancellationToken));

            if (request.IdempotencyKey is { } key)
            {
                var keyed = (await connection.QueryAsync<string, JobRow, (string Hash, JobRow Job)>(
                    new CommandDefinition(KeySql, args, cancellationToken: cancellationToken), (h, job) => (h, job), splitOn: "session_id")).SingleOrDefault();
                if (keyed.Job is { } found)
                {
                    return keyed.Hash == hash ? new Outcome.Existing(found.ToView()) : new Outcome.KeyReused(key);
                }
            }

            if (await connection.QuerySingleOrDefaultAsync<JobRow>(new CommandDefinition(ActiveSql, args, cancellationToken: cancellationToken)) is { } active)
            {
                return new Outcome.Existing(active.ToView());
            }

            if (!await connection.ExecuteScalarAsync<bool>(new CommandDefinition(StrategyExistsSql, args, cancellationToken: cancellationToken)))
            {
                return new Outcome.NoStrategy(request.StrategyId is { } id
                    ? $"Content strategy {id} does not exist."
                    : $"User '{request.UserId}' has no content strategy.");
            }

            var sessionId = Guid.CreateVersion7();
            var row = await connection.QuerySingleAsync<JobRow>(new CommandDefinition(InsertSql, new
            {
                Id = sessionId,
                request.UserId,
                request.StrategyId,
                Request = requestJson,
                Hash = hash,
                Key = request.IdempotencyKey,
                request.CallbackUrl,
                Traceparent = Activity.Current?.Id,
            }, cancellationToken: cancellationToken));
            queue.EnqueueRun(connection, sessionId);
            scope.Complete();
            return new Outcome.Started(row.ToView());
        }
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app) =>
            app.MapPost("/calendar-generation/start", async Task<Results<Accepted<JobView>, Ok<JobView>, ProblemHttpResult>> (
                        Command command, [Microsoft.AspNetCore.Mvc.FromHeader(Name = IdempotencyKey.Header)] string? idempotencyKey, CurrentUser user, IMediator mediator, StreamTickets tickets, CancellationToken ct) =>
                    await mediator.Send(command with { UserId = user.UserIdOr(command.UserId), IdempotencyKey = idempotencyKey }, ct) switch
                    {
                        Outcome.Started started => TypedResults.Accepted($"{FeatureRegistration.RoutePrefix}/calendar-generation/progress/{started.Job.SessionId}",
                            started.Job with { StreamTicket = await tickets.IssueAsync(started.Job) }),
                        Outcome.Existing existing => TypedResults.Ok(existing.Job with { StreamTicket = await tickets.IssueAsync(existing.Job) }),
                        Outcome.NoStrategy none => Problems.NotFound(none.Detail),
                        Outcome.KeyReused reused => IdempotencyKey.Reused(reused.Key),
                        var other => throw new InvalidOperationException($"Unexpected outcome {other}."),
                    })
                .WithTags("Calendar jobs")
                .RequireRateLimiting(Infrastructure.Http.RateLimits.CalendarGeneration)
                .WithSummary("Start a calendar generation job (202 with its progress URL; 200 with the user's running job or the key's job)")
                .ProducesProblem(StatusCodes.Status404NotFound)
                .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
                .ProducesProblem(StatusCodes.Status429TooManyRequests)
                .ProducesValidationProblem();
    }
}
