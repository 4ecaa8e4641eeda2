using Carter;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>Test-only routes that fail on purpose, to observe what a client gets when the unexpected happens.</summary>
internal sealed class FaultInjectionModule : ICarterModule
{
    public const string SecretDetail = "SELECT password FROM secrets WHERE id = 42";

    public void AddRoutes(IEndpointRouteBuilder app)
    {
        // Not part of the contract: kept out of the OpenAPI document (and so out of the contract checks).
        app.MapGet("/test/throw", string () => throw new InvalidOperationException(SecretDetail)).ExcludeFromDescription();
        app.MapPost("/test/echo", (EchoBody body) => body).ExcludeFromDescription();
    }

    internal enum Colour
    {
        DeepBlue,
        Red,
    }

    internal sealed record EchoBody(int Count, Colour Colour, string Text);
}
