using System.Diagnostics;
using ContentPlanning.Api.Infrastructure.Telemetry;
using MediatR;

namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

/// <summary>
/// Runs every MediatR request in a span named after the request type (e.g. <c>ActivateStrategy.Command</c>) and records
/// its duration and outcome in <see cref="ServiceTelemetry.RequestDuration"/>.
/// </summary>
internal sealed class TracingBehavior<TRequest, TResponse> : IPipelineBehavior<TRequest, TResponse>
{
    private static readonly string SpanName = Describe(typeof(TRequest));

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        // Inside a request the sampler did not record, a child span would be created only to carry the same "not
        // sampled" decision: skip it. Outside any request (background work) the sampler decides as for a root.
        using var activity = Activity.Current is { Recorded: false } ? null : ServiceTelemetry.ActivitySource.StartActivity(SpanName);
        var started = Stopwatch.GetTimestamp();
        var outcome = "ok";
        try
        {
            return await next();
        }
        catch (Exception ex)
        {
            outcome = ex switch
            {
                FluentValidation.ValidationException => "invalid",
                NotOwnedException => "not_found",
                _ => "error",
            };
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            activity?.AddException(ex);
            throw;
        }
        finally
        {
            ServiceTelemetry.RequestDuration.Record(
                Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("request", SpanName),
                new KeyValuePair<string, object?>("outcome", outcome));
        }
    }

    private static string Describe(Type type) =>
        type.DeclaringType is null ? type.Name : $"{type.DeclaringType.Name}.{type.Name}";
}
