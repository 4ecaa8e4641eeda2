using System.ComponentModel.DataAnnotations;

namespace ContentPlanning.Api.Features.CacheAdmin;

/// <summary>Settings under <c>CacheAdmin</c> (e.g. CacheAdmin__CleanupInterval=00:10:00).</summary>
public sealed class CacheAdminOptions
{
    public const string Section = "CacheAdmin";

    /// <summary>How often the background cleanup deletes expired snapshot rows; 00:00:00 disables it.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Rows deleted per statement, so cleanup never holds long locks.</summary>
    [Range(1, 100_000)]
    public int CleanupBatchSize { get; set; } = 1000;

    /// <summary>How many users a warm request computes at once.</summary>
    [Range(1, 64)]
    public int WarmParallelism { get; set; } = 4;
}
