using System.Text.Json.Serialization;

namespace ContentPlanning.Caching;

/// <summary>
/// What a cached read stores in FusionCache: the value (null: "not found") with when its factory began reading the
/// source and until when it is fresh. FusionCache reports neither the tier nor fail-safe per call; these stamps, and
/// <see cref="ProducedHere"/>, are how <see cref="CachedRead"/> tells an answer's provenance.
/// </summary>
public sealed class Cached<T>
    where T : class
{
    public T? Value { get; init; }

    /// <summary>When the factory began reading its source: the answer reflects every write committed before it.</summary>
    public DateTimeOffset CachedAt { get; init; }

    /// <summary>Until when the value is fresh in any tier (the longer of L1 and L2 durations plus the largest jitter).</summary>
    public DateTimeOffset FreshUntil { get; init; }

    /// <summary>
    /// True for the instance a factory produced in this process; an instance read from Redis is deserialized with the
    /// default (false). Never serialized.
    /// </summary>
    [JsonIgnore]
    public bool ProducedHere { get; init; }

    /// <summary>True when a forced refresh produced it (in this process): only those serve another forced refresh.</summary>
    [JsonIgnore]
    public bool Forced { get; init; }
}
