using System.ComponentModel.DataAnnotations;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>Settings under <c>Admin</c>.</summary>
public sealed class AdminOptions
{
    public const string Section = "Admin";

    /// <summary>The key admin endpoints expect in <c>X-Admin-Key</c> (Admin__ApiKey). Unset: admin endpoints answer 401.</summary>
    [MinLength(16, ErrorMessage = "Admin__ApiKey must be at least 16 characters long.")]
    public string? ApiKey { get; set; }
}
