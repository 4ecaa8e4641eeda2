using System.Diagnostics;
using ContentPlanning.Api.Infrastructure.Telemetry;
using MediatR;

namespace ContentPlanning.Api.Infrastructure.Features;

/// <summary>Runs every MediatR request in a span named after the request type (e.g. <c>ActivateStrategy.Command</c>).</summary>
internal sealed class TracingBehavior<TRequest, TResponse> : IPipelineBehavior<TRequest, TResponse>
{
    private static readonly string SpanName = Describe(typeof(TRequest));

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        using var activity = ServiceTelemetry.ActivitySource.StartActivity(SpanName);
        try
        {
            return await next();
        }
        catch (Exception ex) when (activity is not null)
        {
            activity.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            activity.AddException(ex);
            throw;
        }
    }

    private static string Describe(Type type) =>
        type.DeclaringType is null ? type.Name : $"{type.DeclaringType.Name}.{type.Name}";
}
