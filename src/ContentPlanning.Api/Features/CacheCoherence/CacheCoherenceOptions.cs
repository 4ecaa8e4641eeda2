using System.ComponentModel.DataAnnotations;

namespace ContentPlanning.Api.Features.CacheCoherence;

/// <summary>Settings of the database change listener (<c>CacheCoherence__*</c>).</summary>
public sealed class CacheCoherenceOptions
{
    public const string Section = "CacheCoherence";

    /// <summary>Off: only writes made through the API evict cached answers (the snapshot tier still notices the rest).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The NOTIFY channel. Must match what the version trigger uses: 'user_data_changed' unless the database setting
    /// content_planning.change_channel names another (migration 0007).
    /// </summary>
    [Required, RegularExpression("^[a-z_][a-z0-9_]{0,62}$")]
    public string Channel { get; set; } = "user_data_changed";

    /// <summary>Pause between reconnect attempts after the listening connection dropped.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Most notifications evicted together (one Redis round trip for the whole batch's L2 claims).</summary>
    [Range(1, 100_000)]
    public int BatchSize { get; set; } = 1000;
}
