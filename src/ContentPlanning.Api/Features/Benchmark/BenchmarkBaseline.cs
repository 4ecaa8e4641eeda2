using Carter;
using ContentPlanning.Caching;

namespace ContentPlanning.Api.Features.Benchmark;

/// <summary>
/// The HTTP benchmark's baseline (scripts/bench-http.sh): the same server answering pre-serialized bytes, so a cached
/// read's throughput can be stated as a ratio to "what this process does with no work at all". Mapped only when
/// <c>Benchmark__Enabled</c> is true; the script stores a real comprehensive-data answer here first, so both carry the
/// same bytes. <c>POST /benchmark/clear-memory</c> empties this node's L1 between rounds.
/// </summary>
public static class BenchmarkBaseline
{
    public const int MaxBytes = 1 << 20;

    internal sealed class Bytes
    {
        public volatile byte[] Value = "{}"u8.ToArray();
    }

    internal sealed class Endpoint : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            if (!app.ServiceProvider.GetRequiredService<IConfiguration>().GetValue<bool>("Benchmark:Enabled"))
            {
                return;
            }

            var bytes = new Bytes();
            var group = app.MapGroup("/benchmark").WithTags("Benchmark").ExcludeFromDescription();
            group.MapGet("/baseline", () => TypedResults.Bytes(bytes.Value, "application/json; charset=utf-8"));
            group.MapPut("/baseline", async (HttpRequest request, CancellationToken ct) =>
            {
                using var buffer = new MemoryStream();
                await request.Body.CopyToAsync(buffer, ct);
                if (buffer.Length is 0 or > MaxBytes)
                {
                    return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad baseline",
                        detail: $"The baseline body must hold 1..{MaxBytes} bytes.");
                }

                bytes.Value = buffer.ToArray();
                return Results.NoContent();
            });

            // Case "L1 cleared, L2 warm": this node forgets its memory tier, Redis keeps everything.
            group.MapPost("/clear-memory", (CacheMemory memory) =>
            {
                memory.Clear();
                return Results.NoContent();
            });
        }
    }
}
