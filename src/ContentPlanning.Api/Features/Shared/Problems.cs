using Microsoft.AspNetCore.Http.HttpResults;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>Problem-details answers the slices share, so the same situation always reads the same way.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);

    public static ProblemHttpResult StrategyNotFound(long id) => NotFound($"Content strategy {id} does not exist.");

    public static ProblemHttpResult ProfileNotFound(string userId) => NotFound($"User {userId} has no profile.");

    public static ProblemHttpResult GapAnalysisNotFound(long id) => NotFound($"Content gap analysis {id} does not exist.");

    public static ProblemHttpResult RecommendationNotFound(long id) => NotFound($"Content recommendation {id} does not exist.");

    public static ProblemHttpResult AnalyticsRecordNotFound(long id) => NotFound($"Content analytics record {id} does not exist.");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: detail);
}
