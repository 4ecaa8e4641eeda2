using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>Stops a node at start when its auth settings cannot work; every message names the setting to fix.</summary>
internal sealed class AuthOptionsValidator : IValidateOptions<AuthOptions>
{
    public const int MinimumKeyBytes = 32;

    public ValidateOptionsResult Validate(string? name, AuthOptions options)
    {
        if (options.Disabled)
        {
            return ValidateOptionsResult.Success;
        }

        if (!string.Equals(options.Mode, AuthOptions.JwtMode, StringComparison.OrdinalIgnoreCase))
        {
            return ValidateOptionsResult.Fail($"Auth__Mode must be '{AuthOptions.JwtMode}' or '{AuthOptions.NoneMode}', not '{options.Mode}'.");
        }

        var failures = new List<string>();
        var hasAuthority = !string.IsNullOrWhiteSpace(options.Authority);
        var hasKey = !string.IsNullOrWhiteSpace(options.SigningKey);
        if (!hasAuthority && !hasKey)
        {
            failures.Add("Auth__Mode=jwt needs Auth__Authority (an OIDC issuer) or Auth__SigningKey (base64, HS256, for development); " +
                         "set Auth__Mode=none only behind a gateway that authenticates callers.");
        }
        else if (hasAuthority && hasKey)
        {
            failures.Add("Set either Auth__Authority or Auth__SigningKey, not both.");
        }

        if (hasAuthority && !Uri.TryCreate(options.Authority, UriKind.Absolute, out _))
        {
            failures.Add("Auth__Authority must be an absolute URL (the issuer that serves /.well-known/openid-configuration).");
        }

        if (hasKey)
        {
            var key = options.SigningKeyBytes();
            if (key is null)
            {
                failures.Add("Auth__SigningKey must be base64.");
            }
            else if (key.Length < MinimumKeyBytes)
            {
                failures.Add($"Auth__SigningKey must hold at least 256 bits ({MinimumKeyBytes} bytes); it holds {key.Length * 8} bits ({key.Length} bytes).");
            }

            if (string.IsNullOrWhiteSpace(options.Issuer))
            {
                failures.Add("Auth__Issuer is required with Auth__SigningKey.");
            }
        }

        if (string.IsNullOrWhiteSpace(options.Audience))
        {
            failures.Add("Auth__Audience is required with Auth__Mode=jwt.");
        }

        if (string.IsNullOrWhiteSpace(options.UserIdClaim))
        {
            failures.Add("Auth__UserIdClaim must name a claim (default: sub).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
