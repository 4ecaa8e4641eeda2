using Microsoft.Extensions.Options;

namespace ContentPlanning.Caching;

/// <summary>Fails the host at start with a message naming each bad <c>Cache:*</c> setting.</summary>
internal sealed class TieredCacheOptionsValidator : IValidateOptions<TieredCacheOptions>
{
    public ValidateOptionsResult Validate(string? name, TieredCacheOptions options)
    {
        var errors = new List<string>();
        const string S = TieredCacheOptions.SectionName;

        if (string.IsNullOrWhiteSpace(options.Name)) errors.Add($"{S}:Name must not be empty.");
        if (string.IsNullOrWhiteSpace(options.NodeId)) errors.Add($"{S}:NodeId must not be empty.");
        if (options.NodeId?.Contains('|', StringComparison.Ordinal) == true) errors.Add($"{S}:NodeId must not contain '|'.");
        if (options.Duration <= TimeSpan.Zero) errors.Add($"{S}:Duration must be positive (was {options.Duration}).");
        if (options.DistributedCacheDuration is { } d && d <= TimeSpan.Zero)
            errors.Add($"{S}:DistributedCacheDuration must be positive when set (was {d}).");
        if (options.FailSafeMaxDuration < TimeSpan.Zero) errors.Add($"{S}:FailSafeMaxDuration must not be negative (was {options.FailSafeMaxDuration}).");
        if (options.FailSafeThrottleDuration < TimeSpan.Zero)
            errors.Add($"{S}:FailSafeThrottleDuration must not be negative (was {options.FailSafeThrottleDuration}).");
        if (options.FactorySoftTimeout is { } soft && soft <= TimeSpan.Zero)
            errors.Add($"{S}:FactorySoftTimeout must be positive when set (was {soft}).");
        if (options.FactoryHardTimeout is { } hard && hard <= TimeSpan.Zero)
            errors.Add($"{S}:FactoryHardTimeout must be positive when set (was {hard}).");
        if (options.EagerRefreshThreshold is { } t && (t <= 0f || t >= 1f))
            errors.Add($"{S}:EagerRefreshThreshold must be between 0 and 1, exclusive (was {t}).");
        if (options.JitterMaxDuration < TimeSpan.Zero) errors.Add($"{S}:JitterMaxDuration must not be negative (was {options.JitterMaxDuration}).");
        if (options.MemorySizeLimit <= 0) errors.Add($"{S}:MemorySizeLimit must be positive (was {options.MemorySizeLimit}).");
        if (options.CircuitBreakerDuration < TimeSpan.Zero)
            errors.Add($"{S}:CircuitBreakerDuration must not be negative (was {options.CircuitBreakerDuration}).");
        if (options.DistributedOperationTimeout <= TimeSpan.Zero)
            errors.Add($"{S}:DistributedOperationTimeout must be positive (was {options.DistributedOperationTimeout}).");
        if (options.MaxPendingReplayOperations < 0)
            errors.Add($"{S}:MaxPendingReplayOperations must not be negative (was {options.MaxPendingReplayOperations}).");
        if (options.MarkerRetention <= TimeSpan.Zero) errors.Add($"{S}:MarkerRetention must be positive (was {options.MarkerRetention}).");
        if (options.JsonSerializerOptions is null) errors.Add($"{S}:JsonSerializerOptions must be set.");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
