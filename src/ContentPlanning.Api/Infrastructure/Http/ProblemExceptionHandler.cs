using System.Text.Json;
using FluentValidation;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Http;

/// <summary>
/// Turns every exception that escapes an endpoint into RFC 7807 problem details: 400 for bad input, 413 for an
/// oversized body, 503 when a dependency is down, 500 (with a trace id, never a stack trace or SQL) otherwise.
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problems, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        var problem = exception switch
        {
            ValidationException validation => ValidationProblem(validation),
            ContentPlanning.Api.Infrastructure.RequestPipeline.NotOwnedException notOwned => Problem(404, "Not found", notOwned.Message),
            BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } => Problem(413, "Request body too large",
                $"The request body may be at most {HttpExtensions.MaxRequestBodyBytes} bytes."),
            BadHttpRequestException bad => BadRequest(bad),
            // A request body that is not JSON arrives as BadHttpRequestException (above). A bare JsonException is the service
            // failing to write or read its own JSON (an answer that cannot be serialized): never the caller's fault, so it
            // falls through to a logged 500.
            PostgresException { SqlState: UserSourceBytesExceeded } limit => Problem(413, "User data limit exceeded",
                $"This write would take the user's gap analyses, recommendations, analytics and calendar events past {limit.Hint} stored bytes "
                + "(Database__MaxUserSourceBytes); delete or shrink some first."),
            PostgresException { SqlState: CalendarFull } full => Problem(409, "Calendar full",
                $"A calendar holds at most {full.Hint} events; delete some first or use another calendar."),
            ZiggyCreatures.Caching.Fusion.SyntheticTimeoutException => Problem(503, "Service unavailable", "A data source did not answer in time; try again shortly."),
            NpgsqlException { InnerException: TimeoutException } or PostgresException { SqlState: PostgresErrorCodes.QueryCanceled } =>
                Problem(503, "Service unavailable", "The database did not answer in time (Database__CommandTimeoutSeconds); try again shortly."),
            NpgsqlException { IsTransient: true } or NpgsqlException { InnerException: System.Net.Sockets.SocketException } or TimeoutException =>
                Problem(503, "Service unavailable", "The database is unreachable and no cached answer exists; try again shortly."),
            OperationCanceledException when httpContext.RequestAborted.IsCancellationRequested => null,
            _ => null,
        };

        if (problem is null)
        {
            if (httpContext.RequestAborted.IsCancellationRequested)
            {
                // The client went away; nobody will read a response.
                return true;
            }

            LogUnhandled(logger, exception, httpContext.Request.Method, httpContext.Request.Path);
            problem = Problem(500, "Internal server error", "An unexpected error occurred. Quote the trace_id when reporting it.");
        }
        else if (problem.Status >= 500)
        {
            LogDependencyFailure(logger, exception.GetType().Name, httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = problem.Status ?? 500;
        if (problem.Status == 503)
        {
            httpContext.Response.Headers.RetryAfter = "5";
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    // Raised by the enforce_user_source_bytes and enforce_calendar_event_limits triggers (migrations 0008, 0012).
    private const string UserSourceBytesExceeded = "CP413";

    // Raised by the enforce_calendar_event_limits trigger (migration 0012).
    private const string CalendarFull = "CP409";

    private static ProblemDetails Problem(int status, string title, string detail) => new() { Status = status, Title = title, Detail = detail };

    private static HttpValidationProblemDetails ValidationProblem(ValidationException exception) =>
        new(exception.Errors
            .GroupBy(e => e.PropertyName, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Select(e => e.ErrorMessage).Distinct().ToArray(), StringComparer.Ordinal))
        {
            Status = 400,
            Title = "One or more validation errors occurred.",
        };

    /// <summary>
    /// A request the framework could not bind: the detail says what is wrong and, when one field is at fault (a wrong
    /// type, an impossible date), <c>errors</c> names it as the client sent it (snake_case), like a validation failure.
    /// </summary>
    private static HttpValidationProblemDetails BadRequest(BadHttpRequestException exception)
    {
        var detail = Describe(exception);
        var field = exception.InnerException is JsonException { Path: { Length: > 2 } path } && path.StartsWith("$.", StringComparison.Ordinal)
            ? path[2..]
            : BindingFailure().Match(exception.Message) is { Success: true } binding
                ? JsonNamingPolicy.SnakeCaseLower.ConvertName(binding.Groups["name"].Value)
                : null;
        // A 400 is documented as a validation problem: its errors map is always there, empty when no one field is at fault
        // (a body that is not JSON at all).
        return new HttpValidationProblemDetails(field is null ? new Dictionary<string, string[]>() : new Dictionary<string, string[]> { [field] = [detail] })
        {
            Status = exception.StatusCode,
            Title = "Bad request",
            Detail = detail,
        };
    }

    // The framework's own messages name C# types and parameters; clients get the JSON path or the query/route name instead.
    private static string Describe(BadHttpRequestException exception)
    {
        if (exception.InnerException is JsonException json)
        {
            return DescribeJson(json);
        }

        var binding = BindingFailure().Match(exception.Message);
        if (binding.Success)
        {
            var value = binding.Groups["value"].Value;
            value = value.Length > 64 ? value[..64] + "..." : value;
            return $"'{binding.Groups["name"].Value}' cannot be '{value}': it must be a {Friendly(binding.Groups["type"].Value)}.";
        }

        return exception.Message.Contains("body", StringComparison.OrdinalIgnoreCase)
            ? "The request needs a JSON body (Content-Type: application/json)."
            : "The request could not be read.";
    }

    private static string DescribeJson(JsonException json) => json.Path is { Length: > 0 } path && path != "$"
        ? $"The request body is not valid JSON, or the value at '{path}' has the wrong type or is out of range."
        : "The request body is not valid JSON (or is not a JSON object).";

    private static string Friendly(string type) => type switch
    {
        var t when t.Contains("int", StringComparison.OrdinalIgnoreCase) || t.Contains("long", StringComparison.OrdinalIgnoreCase) => "whole number",
        var t when t.Contains("bool", StringComparison.OrdinalIgnoreCase) => "boolean (true or false)",
        var t when t.Contains("Guid", StringComparison.Ordinal) => "UUID",
        _ => "value of the expected type",
    };

    [System.Text.RegularExpressions.GeneratedRegex("""^Failed to bind parameter "(?<type>\S+) (?<name>[^"]+)" from "(?<value>.*)"\.?$""")]
    private static partial System.Text.RegularExpressions.Regex BindingFailure();

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled exception for {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Dependency failure ({ExceptionType}) for {Method} {Path}")]
    private static partial void LogDependencyFailure(ILogger logger, string exceptionType, string method, string path);
}
