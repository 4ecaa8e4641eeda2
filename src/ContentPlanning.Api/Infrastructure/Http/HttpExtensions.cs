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

    /// <summary>Rejects declared bodies over the limit before anything reads them (Kestrel enforces the same limit for streamed bodies).</summary>
    // Not an async lambda: a request within the limit passes straight on, without a state machine of its own.
    public static IApplicationBuilder UseRequestBodyLimit(this IApplicationBuilder app) => app.Use(static (context, next) =>
    {
        if (context.Request.ContentLength > MaxRequestBodyBytes)
        {
            var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return problems.WriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                ProblemDetails = { Status = 413, Title = "Request body too large", Detail = $"The request body may be at most {MaxRequestBodyBytes} bytes." },
            }).AsTask();
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxRequestBodyBytes;
        }
        else if (context.Request.ContentLength is null)
        {
            // A server without the limit feature (the in-memory test server, some proxies' hosts) and a chunked body:
            // count what is read instead.
            context.Request.Body = new LimitedBody(context.Request.Body, MaxRequestBodyBytes);
        }

        return next(context);
    });

    /// <summary>Reads through to the request body and fails the request with a 413 once more than the limit was read.</summary>
    private sealed class LimitedBody(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > limit
                ? throw new BadHttpRequestException($"The request body may be at most {limit} bytes.", StatusCodes.Status413PayloadTooLarge)
                : read;
        }

        public override void Flush() => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
