using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
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
            context.ProblemDetails.Extensions["trace_id"] = System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? context.HttpContext.TraceIdentifier;
        });
        services.AddExceptionHandler<ProblemExceptionHandler>();
        return services;
    }

    /// <summary>Rejects declared bodies over the limit before anything reads them (Kestrel enforces the same limit for streamed bodies).</summary>
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.Request.ContentLength > MaxRequestBodyBytes)
        {
            var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = 413, Title = "Request body too large", Detail = $"The request body may be at most {MaxRequestBodyBytes} bytes." },
            });
            return;
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxRequestBodyBytes;
        }

        await next(context);
    });
}
