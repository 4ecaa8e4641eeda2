using System.Diagnostics;
using ContentPlanning.Caching;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>
/// Tracing, metrics and logs through the OpenTelemetry SDK core (OpenTelemetry.Extensions.Hosting does not restore here):
/// the providers are singletons that <see cref="TelemetryHostedService"/> builds at start and disposes at stop.
/// </summary>
public static class TelemetryExtensions
{
    public const string DefaultServiceName = "content-planning";

    private static readonly string[] Sources = ["Microsoft.AspNetCore", "Npgsql", ServiceTelemetry.Name, CacheTelemetry.ActivitySourceName];

    private static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics",
        "System.Net.Http", "System.Runtime", "Npgsql", ServiceTelemetry.Name, CacheTelemetry.MeterName,
    ];

    public static WebApplicationBuilder AddTelemetry(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var serviceName = configuration["OTEL_SERVICE_NAME"] is { Length: > 0 } name ? name : DefaultServiceName;
        var otlpEndpoint = configuration["OTEL_EXPORTER_OTLP_ENDPOINT"];
        var exportOtlp = !string.IsNullOrWhiteSpace(otlpEndpoint);
        if (exportOtlp && !Uri.TryCreate(otlpEndpoint, UriKind.Absolute, out _))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException("OTEL_EXPORTER_OTLP_ENDPOINT", typeof(Uri),
                [$"OTEL_EXPORTER_OTLP_ENDPOINT must be an absolute URI such as http://127.0.0.1:4318, not '{otlpEndpoint}'."]);
        }

        var resource = ResourceBuilder.CreateDefault()
            .AddService(serviceName, serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId);

        builder.Services.AddSingleton<RecentSpans>();
        builder.Services.AddSingleton(sp =>
        {
            var tracing = Sdk.CreateTracerProviderBuilder()
                .SetResourceBuilder(resource)
                .AddSource(Sources)
                .AddProcessor(new SimpleActivityExportProcessor(sp.GetRequiredService<RecentSpans>()));
            if (exportOtlp)
            {
                tracing.AddOtlpExporter();
            }

            return tracing.Build();
        });
        builder.Services.AddSingleton(_ =>
        {
            var metrics = Sdk.CreateMeterProviderBuilder().SetResourceBuilder(resource).AddMeter(Meters);
            if (exportOtlp)
            {
                metrics.AddOtlpExporter();
            }

            return metrics.Build();
        });
        builder.Services.AddHostedService<TelemetryHostedService>();

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.IncludeScopes = true;
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.SetResourceBuilder(resource);
            logging.IncludeFormattedMessage = true;
            if (exportOtlp)
            {
                logging.AddOtlpExporter();
            }
        });
        return builder;
    }

    // The providers are resolved once at start and kept: StopAsync may run after the container was disposed
    // (WebApplicationFactory stops a minimal-hosting app twice, dotnet/aspnetcore#40271), so it must not resolve anything.
    private sealed class TelemetryHostedService(IServiceProvider services) : IHostedService
    {
        private TracerProvider? _tracing;
        private MeterProvider? _metrics;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            // Resolving builds the providers, which start listening to the sources and meters.
            _tracing = services.GetRequiredService<TracerProvider>();
            _metrics = services.GetRequiredService<MeterProvider>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken)
        {
            _tracing?.ForceFlush(2000);
            _metrics?.ForceFlush(2000);
            return Task.CompletedTask;
        }
    }
}
