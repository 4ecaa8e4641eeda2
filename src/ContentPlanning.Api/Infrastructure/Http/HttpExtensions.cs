using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;

namespace ContentPlanning.Api.Infrastructure.Http;

public static class HttpExtensions
{
    public const long MaxRequestBodyBytes = 1024 * 1024;

    /// <summary>The one JSON contract of the API: snake_case names, enums as snake_case strings.</summary>
    public static void ConfigureJson(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false));
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
    }

    public static IServiceCollection AddHttpConventions(this IServiceCollection services)
    {
        services.Configure<JsonOptions>(o => ConfigureJson(o.SerializerOptions));
        // Binding failures (malformed JSON, wrong types) throw BadHttpRequestException, which becomes a 400 problem.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<Microsoft.AspNetCore.Server.Kestrel.Core.KestrelServerOptions>(o => o.Limits.MaxRequestBodySize = MaxRequestBodyBytes);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            // ASP.NET Core knows a type for some RFC 9110 statuses only: every problem carries one (429 is RFC 6585's).
            context.ProblemDetails.Type ??= context.ProblemDetails.Status switch
            {
                StatusCodes.Status413PayloadTooLarge => "https://tools.ietf.org/html/rfc9110#section-15.5.14",
                StatusCodes.Status429TooManyRequests => "https://tools.ietf.org/html/rfc6585#section-4",
                _ => "about:blank",
            };

            context.ProblemDetails.Extensions["trace_id"] = System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }

    /// <summary>
    /// <c>Server-Timing: app;dur=&lt;ms&gt;</c> on every answer: the time from the request entering the pipeline to its
    /// answer starting, so a client (and the simulation) can tell server time from the network's.
    /// </summary>
    public static IApplicationBuilder UseServerTiming(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        context.Response.OnStarting(ServerTiming.Write, new ServerTiming(context));
        return next(context);
    });

    private sealed class ServerTiming(HttpContext context)
    {
        public static readonly Func<object, Task> Write = static state =>
        {
            var timing = (ServerTiming)state;
            var milliseconds = System.Diagnostics.Stopwatch.GetElapsedTime(timing._started).TotalMilliseconds;
            timing._context.Response.Headers["Server-Timing"] = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"app;dur={milliseconds:0.###}");
            return Task.CompletedTask;
        };

        private readonly long _started = System.Diagnostics.Stopwatch.GetTimestamp();
        private readonly HttpContext _context = context;
    }

    /// <summary>
    /// Rejects a declared body over the limit with a 413 problem before anything reads it. A body of unknown length
    /// (chunked) is counted by Kestrel itself (<c>MaxRequestBodySize</c>, set above), whose 413 reaches the exception handler.
    /// </summary>
    // Not an async lambda: a request within the limit passes straight on, without a state machine of its own.
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        if (context.Request.ContentLength <= MaxRequestBodyBytes || context.Request.ContentLength is null)
        {
            return next(context);
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        return problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = 413, Title = "Request body too large", Detail = $"The request body may be at most {MaxRequestBodyBytes} bytes." },
        }).AsTask();
    });
}
