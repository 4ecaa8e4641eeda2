using System.Collections.Concurrent;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ContentPlanning.Api.Infrastructure.Security;

/// <summary>
/// The bearer token handler with a memory of tokens it validated: a client sends the same token on every request until it
/// expires, and checking its signature, issuer, audience and lifetime again each time is most of what authentication
/// costs. Keyed by the token's exact text (a different token is validated afresh), an entry lives until the token's
/// <c>exp</c> and at most <see cref="MaxAge"/> (so a signing key withdrawn from the authority stops being honoured
/// within that time), and the cache holds at most <see cref="MaxEntries"/> tokens (when full, expired entries go first,
/// then everything). Only valid tokens are kept; every caller gets its own copy of the claims identity.
/// </summary>
internal sealed class ValidatedTokenCache(TokenHandler inner, TimeProvider time) : TokenHandler
{
    public const int MaxEntries = 10_000;

    public static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    public static ValidatedTokenCache Create(TimeProvider time) => new(new JsonWebTokenHandler { MapInboundClaims = false }, time);

    public int Count => _entries.Count;

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        var now = time.GetUtcNow().UtcDateTime;
        if (_entries.TryGetValue(token, out var cached))
        {
            if (cached.ExpiresUtc > now)
            {
                return Copy(cached.Result);
            }

            _entries.TryRemove(KeyValuePair.Create(token, cached));
        }

        var result = await inner.ValidateTokenAsync(token, validationParameters);
        if (result.IsValid && result.SecurityToken is { ValidTo: var validTo } && validTo > now)
        {
            var expires = validTo < now + MaxAge ? validTo : now + MaxAge;
            if (_entries.Count >= MaxEntries)
            {
                Trim(now);
            }

            _entries[token] = new Entry(result, expires);
            return Copy(result);
        }

        return result;
    }

    public override SecurityToken ReadToken(string token) => inner.ReadToken(token);

    private void Trim(DateTime now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.ExpiresUtc <= now)
            {
                _entries.TryRemove(key, out _);
            }
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }
    }

    // The handler wraps the identity in a new principal per request; a copy keeps one request's changes from another's.
    private static TokenValidationResult Copy(TokenValidationResult result) => new()
    {
        IsValid = true,
        ClaimsIdentity = result.ClaimsIdentity.Clone(),
        SecurityToken = result.SecurityToken,
        Issuer = result.Issuer,
        TokenType = result.TokenType,
    };

    private sealed record Entry(TokenValidationResult Result, DateTime ExpiresUtc);
}
