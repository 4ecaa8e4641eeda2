using System.Diagnostics;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>
/// ASP.NET Core's own server span carries no attributes; OpenTelemetry.Instrumentation.AspNetCore (which adds them)
/// does not restore here. This adds the HTTP semantic-convention attributes and a "METHOD route" span name.
/// </summary>
public static class ServerSpanEnrichment
{
    public static IApplicationBuilder UseServerSpanEnrichment(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var activity = Activity.Current;
        if (activity is null || activity.Source.Name != "Microsoft.AspNetCore" || !activity.IsAllDataRequested)
        {
            await next(context);
            return;
        }

        var request = context.Request;
        activity.SetTag("http.request.method", request.Method);
        activity.SetTag("url.path", request.Path.Value);
        activity.SetTag("url.scheme", request.Scheme);
        if (request.QueryString.HasValue)
        {
            activity.SetTag("url.query", request.QueryString.Value);
        }

        try
        {
            await next(context);
        }
        finally
        {
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText;
            activity.DisplayName = route is null ? request.Method + " " + request.Path.Value : request.Method + " " + route;
            if (route is not null)
            {
                activity.SetTag("http.route", route);
            }

            activity.SetTag("http.response.status_code", context.Response.StatusCode);
            if (context.Response.StatusCode >= 500)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }
    });
}
