using Carter;

namespace ContentPlanning.Api.Features.UserProfiles;

/// <summary>The user profiles area: its routes in one group, tagged once.</summary>
internal static class UserProfilesArea
{
    public const string Tag = "User profiles";

    /// <summary>Nested, like a one-use-case slice's endpoint: see FeatureRegistration on the order modules are mapped in.</summary>
    internal sealed class Routes : ICarterModule
    {
        public void AddRoutes(IEndpointRouteBuilder app)
        {
            var group = app.MapGroup(string.Empty).WithTags(Tag);
            DeleteUserProfile.Map(group);
            GetUserProfile.Map(group);
            PutUserProfile.Map(group);
        }
    }
}
