using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// Declares the bearer scheme (and the admin key) in the OpenAPI document and, per operation, the scope it needs, so
/// Swagger UI's Authorize button works and clients see what each route demands.
/// </summary>
internal static class OpenApiSecurity
{
    public const string BearerScheme = "Bearer";

    public const string AdminKeyScheme = "AdminKey";

    public static void Apply(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                BearerFormat = "JWT",
                Description = $"A JWT from the configured issuer. Scopes: {Scopes.Read} (GET), {Scopes.Write} (writes), " +
                              $"{Scopes.Admin} (admin routes), {Scopes.AnyUser} (act for any user_id, service tokens only).",
            };
            document.Components.SecuritySchemes[AdminKeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = AdminAccess.HeaderName,
                Description = "The operators' key (Admin__ApiKey), accepted on the admin routes instead of a token with the admin scope.",
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var description = context.Description;
            if (description.RelativePath is not { } path || !("/" + path).StartsWith(FeatureRegistration.RoutePrefix, StringComparison.Ordinal))
            {
                return Task.CompletedTask;
            }

            var admin = description.ActionDescriptor.EndpointMetadata.OfType<AdminRouteMetadata>().Any();
            var scope = admin ? Scopes.Admin : Scopes.ForMethod(description.HttpMethod ?? "GET");
            operation.Security ??= [];
            operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [scope] });
            if (admin)
            {
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(AdminKeyScheme, context.Document)] = [] });
            }

            operation.Responses ??= new OpenApiResponses();
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid bearer token (WWW-Authenticate: Bearer)." });
            operation.Responses.TryAdd("403", new OpenApiResponse { Description = $"The token lacks the {scope} scope." });
            return Task.CompletedTask;
        });
    }
}
