using System.Text.RegularExpressions;
using FluentValidation;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// The upstream identity is a string of 1..128 characters of [A-Za-z0-9_.@-], everywhere (the database enforces it too).
/// The pattern ends in \z, not $: .NET's $ also matches before a final newline, which the database's domain rejects.
/// </summary>
public static partial class UserIdRules
{
    public const string Description = "1 to 128 characters of A-Z, a-z, 0-9, '_', '.', '@', '-'";

    [GeneratedRegex(@"^[A-Za-z0-9_.@-]{1,128}\z")]
    private static partial Regex Pattern();

    public static bool IsValid(string? userId) => userId is not null && Pattern().IsMatch(userId);

    public static IRuleBuilderOptions<T, string?> ValidUserId<T>(this IRuleBuilder<T, string?> rule) =>
        rule.NotEmpty().Must(IsValid).WithMessage($"'{{PropertyName}}' must be {Description}.");
}
