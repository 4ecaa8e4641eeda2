using System.Diagnostics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Api.Infrastructure.Telemetry;

/// <summary>
/// Tracing, metrics and logs through OpenTelemetry.Extensions.Hosting: server spans from the ASP.NET Core instrumentation,
/// database spans from Npgsql.OpenTelemetry, the service's and the cache's own sources and meters, a Prometheus scrape
/// endpoint and, when OTEL_EXPORTER_OTLP_ENDPOINT is set, OTLP export (the standard OTEL_* variables apply).
/// Sampling: see <see cref="TraceSampling"/> (1 % of root requests by default, every span in Development).
/// </summary>
public static class TelemetryExtensions
{
    public const string DefaultServiceName = "content-planning";

    // FusionCache's operation spans and its L2 and backplane spans, under which the Redis spans (AddRedisInstrumentation) nest.
    private static readonly string[] Sources =
    [
        ServiceTelemetry.Name, FusionCacheDiagnostics.ActivitySourceName, FusionCacheDiagnostics.ActivitySourceNameDistributedLevel,
        FusionCacheDiagnostics.ActivitySourceNameBackplane,
    ];

    private static readonly string[] Meters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics",
        "System.Net.Http", "System.Runtime", "Npgsql", ServiceTelemetry.Name, FusionCacheDiagnostics.MeterName,
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

        var prometheus = PrometheusOptions.From(configuration);
        builder.Services.AddSingleton(prometheus);
        builder.Services.AddSingleton<RecentSpans>();
        builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(serviceName, serviceInstanceId: Environment.MachineName + ":" + Environment.ProcessId))
            .WithTracing(tracing =>
            {
                tracing.AddAspNetCoreInstrumentation(o => o.EnrichWithHttpResponse = (activity, response) =>
                    {
                        // Kept from the hand-written enrichment the instrumentation replaced: the recent-traces view and
                        // its users find a request by its path and see failures as errors.
                        activity.SetTag("url.path", response.HttpContext.Request.Path.Value);
                        if (response.StatusCode >= 500)
                        {
                            activity.SetStatus(ActivityStatusCode.Error);
                        }
                    })
                    .AddNpgsql()
                    .AddRedisInstrumentation()
                    .AddSource(Sources)
                    .SetSampler(sp => TraceSampling.From(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IHostEnvironment>()))
                    // Runs before every exporter, so neither the recent-traces view nor OTLP ever sees a password.
                    .AddProcessor(new ConnectionStringScrubber())
                    // Batched: a request only enqueues its spans (see RecentSpans).
                    .AddProcessor(sp => sp.GetRequiredService<RecentSpans>().Processor);
                if (exportOtlp)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters);
                if (prometheus.Enabled)
                {
                    // No response cache: a scrape always shows what happened up to now (scrapes are seconds apart anyway).
                    metrics.AddPrometheusExporter(o => o.ScrapeResponseCacheDurationMilliseconds = 0);
                }

                if (exportOtlp)
                {
                    metrics.AddOtlpExporter();
                }
            })
            .WithLogging(logging =>
            {
                if (exportOtlp)
                {
                    logging.AddOtlpExporter();
                }
            }, options => options.IncludeFormattedMessage = true);

        builder.Logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.IncludeScopes = true;
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        return builder;
    }

    /// <summary>Maps the Prometheus scrape endpoint (GET /metrics unless configured otherwise) when it is enabled.</summary>
    public static IEndpointRouteBuilder MapMetrics(this IEndpointRouteBuilder app)
    {
        var prometheus = app.ServiceProvider.GetRequiredService<PrometheusOptions>();
        if (prometheus.Enabled)
        {
            app.MapPrometheusScrapingEndpoint(prometheus.Path);
        }

        return app;
    }

    /// <summary>Npgsql's <c>db.npgsql.data_source</c> tag is the connection string; a password must never leave the process.</summary>
    private sealed class ConnectionStringScrubber : BaseProcessor<Activity>
    {
        private const string Tag = "db.npgsql.data_source";

        public override void OnEnd(Activity data)
        {
            if (data.GetTagItem(Tag) is string dataSource && dataSource.Contains("assword", StringComparison.OrdinalIgnoreCase))
            {
                data.SetTag(Tag, Scrub(dataSource));
            }
        }

        internal static string Scrub(string connectionString)
        {
            try
            {
                var builder = new NpgsqlConnectionStringBuilder(connectionString);
                builder.Remove("Password");
                return builder.ConnectionString;
            }
            catch (ArgumentException)
            {
                // Not a parseable connection string: drop it rather than risk exporting a secret.
                return "(redacted)";
            }
        }
    }
}

/// <summary>The Prometheus scrape endpoint: <c>Metrics:Prometheus:Enabled</c> (default true), <c>Metrics:Prometheus:Path</c> (default /metrics).</summary>
public sealed record PrometheusOptions(bool Enabled, string Path)
{
    public static PrometheusOptions From(IConfiguration configuration)
    {
        var section = configuration.GetSection("Metrics:Prometheus");
        var path = section["Path"] is { Length: > 0 } p ? p : "/metrics";
        if (!path.StartsWith('/'))
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException("Metrics:Prometheus:Path", typeof(string),
                [$"Metrics:Prometheus:Path must start with '/', not '{path}'."]);
        }

        return new PrometheusOptions(section.GetValue("Enabled", true), path);
    }
}
