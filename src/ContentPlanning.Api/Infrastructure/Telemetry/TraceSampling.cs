using System.Globalization;
using Microsoft.Extensions.Options;
using OpenTelemetry.Trace;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>
/// Which requests are traced. The standard variables decide when set: <c>OTEL_TRACES_SAMPLER</c> (always_on, always_off,
/// traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio) and <c>OTEL_TRACES_SAMPLER_ARG</c>
/// (the ratio, 0..1). Unset, the default is <c>parentbased_traceidratio</c> at <see cref="DefaultRatio"/>: a request
/// whose caller sent a sampled <c>traceparent</c> is always traced, and 1 % of the others; tracing every request of a hot
/// read path costs a fifth of its throughput (README, "HTTP benchmark"). In Development every request is traced
/// (<c>always_on</c>), so the recent-traces view of a local run shows each request. An unknown sampler name or a ratio
/// outside 0..1 stops the start with a message, rather than silently tracing everything or nothing.
/// </summary>
public static class TraceSampling
{
    public const double DefaultRatio = 0.01;

    public static Sampler From(IConfiguration configuration, IHostEnvironment environment)
    {
        var name = configuration["OTEL_TRACES_SAMPLER"]?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(name))
        {
            return environment.IsDevelopment() ? new AlwaysOnSampler() : new ParentBasedSampler(new TraceIdRatioBasedSampler(DefaultRatio));
        }

        return name switch
        {
            "always_on" => new AlwaysOnSampler(),
            "always_off" => new AlwaysOffSampler(),
            "traceidratio" => new TraceIdRatioBasedSampler(Ratio(configuration)),
            "parentbased_always_on" => new ParentBasedSampler(new AlwaysOnSampler()),
            "parentbased_always_off" => new ParentBasedSampler(new AlwaysOffSampler()),
            "parentbased_traceidratio" => new ParentBasedSampler(new TraceIdRatioBasedSampler(Ratio(configuration))),
            _ => throw new OptionsValidationException("OTEL_TRACES_SAMPLER", typeof(string),
                [$"OTEL_TRACES_SAMPLER must be always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio, not '{name}'."]),
        };
    }

    // The specification's default ratio when the argument is left out is 1.0.
    private static double Ratio(IConfiguration configuration) =>
        configuration["OTEL_TRACES_SAMPLER_ARG"] is not { Length: > 0 } text ? 1.0
        : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) && ratio is >= 0 and <= 1 ? ratio
        : throw new OptionsValidationException("OTEL_TRACES_SAMPLER_ARG", typeof(double),
            [$"OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1 (e.g. 0.01), not '{text}'."]);
}
