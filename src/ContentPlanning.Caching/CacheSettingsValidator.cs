using Microsoft.Extensions.Options;

namespace ContentPlanning.Caching;

/// <summary>Fails the host at start with a message naming each bad <c>Cache:*</c> setting.</summary>
internal sealed class CacheSettingsValidator : IValidateOptions<CacheSettings>
{
    public ValidateOptionsResult Validate(string? name, CacheSettings options)
    {
        var errors = new List<string>();
        const string S = CacheSettings.SectionName;
        var entry = options.DefaultEntryOptions;

        if (string.IsNullOrWhiteSpace(options.Name)) errors.Add($"{S}:Name must not be empty.");
        if (string.IsNullOrWhiteSpace(options.NodeId)) errors.Add($"{S}:NodeId must not be empty.");
        if (options.NodeId?.Contains('|', StringComparison.Ordinal) == true) errors.Add($"{S}:NodeId must not contain '|'.");
        if (entry.Duration <= TimeSpan.Zero) errors.Add($"{S}:Duration must be positive (was {entry.Duration}); expected a duration (hh:mm:ss).");
        if (entry.DistributedCacheDuration is { } d && d <= TimeSpan.Zero)
            errors.Add($"{S}:DistributedCacheDuration must be positive when set (was {d}).");
        if (entry.FailSafeMaxDuration < TimeSpan.Zero) errors.Add($"{S}:FailSafeMaxDuration must not be negative (was {entry.FailSafeMaxDuration}).");
        if (entry.FailSafeThrottleDuration < TimeSpan.Zero)
            errors.Add($"{S}:FailSafeThrottleDuration must not be negative (was {entry.FailSafeThrottleDuration}).");
        if (entry.FactorySoftTimeout <= TimeSpan.Zero && entry.FactorySoftTimeout != Timeout.InfiniteTimeSpan)
            errors.Add($"{S}:FactorySoftTimeout must be positive when set (was {entry.FactorySoftTimeout}).");
        if (entry.FactoryHardTimeout <= TimeSpan.Zero && entry.FactoryHardTimeout != Timeout.InfiniteTimeSpan)
            errors.Add($"{S}:FactoryHardTimeout must be positive when set (was {entry.FactoryHardTimeout}).");
        if (options.EagerRefreshThreshold is { } t && (t <= 0f || t >= 1f))
            errors.Add($"{S}:EagerRefreshThreshold must be between 0 and 1, exclusive (was {t}).");
        if (entry.JitterMaxDuration < TimeSpan.Zero) errors.Add($"{S}:JitterMaxDuration must not be negative (was {entry.JitterMaxDuration}).");
        if (options.NotFoundDuration <= TimeSpan.Zero) errors.Add($"{S}:NotFoundDuration must be positive (was {options.NotFoundDuration}).");
        if (options.MemorySizeLimit <= 0) errors.Add($"{S}:MemorySizeLimit must be positive (was {options.MemorySizeLimit}).");
        if (options.CircuitBreakerDuration < TimeSpan.Zero)
            errors.Add($"{S}:CircuitBreakerDuration must not be negative (was {options.CircuitBreakerDuration}).");
        if (options.DistributedOperationTimeout <= TimeSpan.Zero)
            errors.Add($"{S}:DistributedOperationTimeout must be positive (was {options.DistributedOperationTimeout}).");
        if (options.MaxPendingReplayOperations < 0)
            errors.Add($"{S}:MaxPendingReplayOperations must not be negative (was {options.MaxPendingReplayOperations}).");
        if (options.MarkerRetention <= TimeSpan.Zero) errors.Add($"{S}:MarkerRetention must be positive (was {options.MarkerRetention}).");
        if (options.DistributedLocker.Timeout <= TimeSpan.Zero)
            errors.Add($"{S}:DistributedLocker:Timeout must be positive (was {options.DistributedLocker.Timeout}).");

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
