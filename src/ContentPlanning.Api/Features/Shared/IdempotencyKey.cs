using System.Security.Cryptography;
using System.Text;
using Dapper;
using FluentValidation;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// The Idempotency-Key rules of the routes that accept one (generate-calendar, start a calendar job): the header's form,
/// the request hash a stored answer is compared with, the lock same-key requests queue on, and the 422 for a key reused
/// with another body. Keys are per user: another user's identical key is another key.
/// </summary>
public static class IdempotencyKey
{
    public const string Header = "Idempotency-Key";

    /// <summary>1..255 printable ASCII characters, reported under the header's name.</summary>
    public static IRuleBuilderOptions<T, string?> ValidIdempotencyKey<T>(this IRuleBuilder<T, string?> rule) =>
        rule.Length(1, 255).Must(k => k!.All(c => c is >= '!' and <= '~')).OverridePropertyName(Header)
            .WithMessage($"{Header} must be 1..255 printable characters.");

    /// <summary>The hash a stored answer keeps of the request that produced it.</summary>
    public static string Hash(string canonicalRequest) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)));

    /// <summary>
    /// Same-key requests of one user queue here until the first one's transaction ends: a transaction-level lock, taken
    /// in the transaction that stores the answer (so it holds through PgBouncer's transaction pooling and never outlives it).
    /// </summary>
    public static Task LockAsync(NpgsqlConnection connection, string route, string userId, string key, CancellationToken cancellationToken) =>
        connection.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_xact_lock(hashtextextended(@Route || ':' || @UserId || ':' || @Key, 0))",
            new { Route = route, UserId = userId, Key = key }, cancellationToken: cancellationToken));

    /// <summary>The answer to a key reused with another request body.</summary>
    public static ProblemHttpResult Reused(string key) => TypedResults.Problem(statusCode: StatusCodes.Status422UnprocessableEntity,
        title: "Idempotency-Key reused", detail: ReusedDetail(key));

    public static string ReusedDetail(string key) => $"{Header} '{key}' was used with a different request body.";
}
