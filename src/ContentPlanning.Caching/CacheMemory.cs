using Microsoft.Extensions.Caching.Memory;

namespace ContentPlanning.Caching;

/// <summary>
/// FusionCache's L1: a MemoryCache of the cache's own, bounded by <c>Cache__MemorySizeLimit</c> bytes, handed to
/// FusionCache with <c>WithMemoryCache</c>. Owning it is what lets this node forget its L1 alone (Redis keeps every
/// entry) through MemoryCache's public API, never through FusionCache's internal key formats.
/// </summary>
public sealed class CacheMemory(CacheSettings settings) : IDisposable
{
    internal MemoryCache Cache { get; } = new(new MemoryCacheOptions { SizeLimit = settings.MemorySizeLimit, TrackStatistics = true });

    /// <summary>Entries in L1 (values and FusionCache's tag markers).</summary>
    public long Count => Cache.Count;

    /// <summary>Bytes charged against the L1 budget.</summary>
    public long Bytes => Cache.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

    /// <summary>Drops this node's L1 only (no L2, no backplane): diagnostics, benchmarks and tests.</summary>
    public void Clear() => Cache.Clear();

    public void Dispose() => Cache.Dispose();
}
