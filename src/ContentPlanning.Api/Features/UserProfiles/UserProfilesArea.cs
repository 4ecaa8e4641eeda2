using ContentPlanning.Api.Infrastructure.RequestPipeline;

namespace ContentPlanning.Api.Features.UserProfiles;

/// <summary>The user profiles area: one Carter module, one route group, the tag set once.</summary>
internal static class UserProfilesArea
{
    internal sealed class Routes : AreaRoutes
    {
        protected override string Tag => "User profiles";

        protected override Action<IEndpointRouteBuilder>[] UseCases => [DeleteUserProfile.Map, GetUserProfile.Map, PutUserProfile.Map];
    }
}
