using System.Text.Json.Serialization;
using ContentPlanning.Api.Features.Shared;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using Dapper;
using FluentValidation;
using MediatR;
using Microsoft.AspNetCore.Http.HttpResults;
using Npgsql;

namespace ContentPlanning.Api.Features.UserProfiles;

/// <summary>Creates or replaces a user's profile: every field takes the body's value (absent means null).</summary>
public static class PutUserProfile
{
    public sealed class Command : UserProfileFields, IRequest<Response>, IUserScoped
    {
        [JsonIgnore]
        public string? UserId { get; set; }
    }

    public sealed record Response(UserProfile Profile, bool Created);

    internal sealed class Validator : AbstractValidator<Command>
    {
        public Validator()
        {
            RuleFor(x => x.UserId).ValidUserId();
            Include(new UserProfileFieldsValidator());
        }
    }

    internal sealed class Handler(NpgsqlDataSource dataSource, UserDataCache cache) : IRequestHandler<Command, Response>
    {
        // xmax is 0 only on a freshly inserted row version: that tells "created" from "replaced" in one statement.
        private const string Sql = $"""
            INSERT INTO user_profiles AS p (user_id, industry, business_size, target_audience, writing_tone, writing_voice, content_types,
                                            brand_values, platform_preferences, posting_preferences, posting_days, optimal_times, website_url)
            VALUES (@UserId, @Industry, @BusinessSize, @TargetAudience, @WritingTone, @WritingVoice, @ContentTypes,
                    @BrandValues, @PlatformPreferences, @PostingPreferences, @PostingDays, @OptimalTimes, @WebsiteUrl)
            ON CONFLICT (user_id) DO UPDATE
               SET industry = EXCLUDED.industry, business_size = EXCLUDED.business_size, target_audience = EXCLUDED.target_audience,
                   writing_tone = EXCLUDED.writing_tone, writing_voice = EXCLUDED.writing_voice, content_types = EXCLUDED.content_types,
                   brand_values = EXCLUDED.brand_values, platform_preferences = EXCLUDED.platform_preferences,
                   posting_preferences = EXCLUDED.posting_preferences, posting_days = EXCLUDED.posting_days,
                   optimal_times = EXCLUDED.optimal_times, website_url = EXCLUDED.website_url, updated_at = now()
            RETURNING {UserProfile.SelectColumns}, (p.xmax = 0) AS created
            """;

        public async Task<Response> Handle(Command request, CancellationToken cancellationToken)
        {
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            var rows = await connection.QueryAsync<UserProfile, bool, Response>(
                new CommandDefinition(Sql, request, cancellationToken: cancellationToken), (profile, created) => new Response(profile, created), splitOn: "created");
            var response = rows.Single();
            await cache.InvalidateAsync(response.Profile.UserId, UserChange.Data, cancellationToken);
            return response;
        }
    }

    internal static void Map(IEndpointRouteBuilder app) =>
        app.MapPut("/users/{user_id}/profile", async Task<Results<Created<UserProfile>, Ok<UserProfile>>> (
                string user_id, Command command, IMediator mediator, CancellationToken ct) =>
            {
                command.UserId = user_id;
                var response = await mediator.Send(command, ct);
                return response.Created
                    ? TypedResults.Created($"{FeatureRegistration.RoutePrefix}/users/{Uri.EscapeDataString(user_id)}/profile", response.Profile)
                    : TypedResults.Ok(response.Profile);
            })
            .WithSummary("Create or replace a user's onboarding profile (201 when created, 200 when replaced)")
            .ProducesValidationProblem();
}
