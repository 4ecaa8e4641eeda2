using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>What a write answers: the written row, or the problem (404, 409) that explains why nothing was written.</summary>
public sealed record WriteOutcome<T>(T? Row, ProblemHttpResult? Problem)
    where T : class
{
    public static implicit operator WriteOutcome<T>(T row) => new(row, null);

    public static implicit operator WriteOutcome<T>(ProblemHttpResult problem) => new(null, problem);

    /// <summary>The endpoint's answer: <paramref name="written"/> applied to the row, else the problem.</summary>
    public Results<TResult, ProblemHttpResult> ToResult<TResult>(Func<T, TResult> written)
        where TResult : IResult
    {
        if (Row is { } row)
        {
            return written(row);
        }

        return Problem ?? throw new InvalidOperationException("A write outcome holds neither a row nor a problem.");
    }
}
