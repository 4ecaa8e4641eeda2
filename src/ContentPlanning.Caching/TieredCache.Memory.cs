using System.Collections.Concurrent;
using Microsoft.Extensions.Caching.Memory;

namespace ContentPlanning.Caching;

/// <summary>L1 bookkeeping: storing entries, the tag index (tag → keys) and local invalidation.</summary>
internal sealed partial class TieredCache
{
    private readonly ConcurrentDictionary<string, TagKeys> _tagIndex = new(StringComparer.Ordinal);

    private static readonly PostEvictionDelegate OnEvictedCallback = static (key, value, reason, state) =>
        ((TieredCache)state!).OnEvicted((string)key, (MemoryEntry)value!);

    /// <summary>The L1 entry for <paramref name="key"/> whatever its age, unless past its fail-safe expiry.</summary>
    private MemoryEntry? PeekMemory(string key, long now) =>
        _memory.TryGetValue(key, out var found) && found is MemoryEntry entry && now < entry.FailSafeExpiry ? entry : null;

    private bool IsFresh(MemoryEntry entry, long now) =>
        now < Volatile.Read(ref entry.LogicalExpiry) && entry.Generation == Volatile.Read(ref _generation);

    private void SetMemory(string key, MemoryEntry entry, CacheEntryOptions options, long now)
    {
        using (var cacheEntry = _memory.CreateEntry(key))
        {
            cacheEntry.Value = entry;
            cacheEntry.Size = options.Size;
            cacheEntry.Priority = options.Priority;
            // MemoryCache runs on the system clock and the cache's clock may be a fake one: give it a relative lifetime
            // and let the entry's own times decide freshness.
            cacheEntry.AbsoluteExpirationRelativeToNow = TimeSpan.FromTicks(Math.Max(entry.FailSafeExpiry - now, 1));
            if (entry.Tags is not null) cacheEntry.RegisterPostEvictionCallback(OnEvictedCallback, this);
        }

        // Indexed after the insert: an eviction callback racing with us then either sees this entry or is undone here.
        if (entry.Tags is { } tags)
        {
            foreach (var tag in tags) AddToTagIndex(tag, key);
        }
    }

    private MemoryEntry NewMemoryEntry(object? value, long createdAt, long logicalExpiry, long failSafeExpiry, string[]? tags,
        float? eagerRefreshThreshold, bool isStale) => new()
        {
            Value = value,
            CreatedAt = createdAt,
            Generation = Volatile.Read(ref _generation),
            LogicalExpiry = logicalExpiry,
            FailSafeExpiry = Math.Max(failSafeExpiry, logicalExpiry),
            Tags = tags,
            EagerRefreshAt = eagerRefreshThreshold is { } t && logicalExpiry > createdAt
            ? createdAt + (long)((logicalExpiry - createdAt) * (double)t)
            : long.MaxValue,
            IsStale = isStale,
        };

    /// <summary>Not fresh any more on any clock reading (the hit path's clock may lag), but kept for fail-safe.</summary>
    private void ExpireMemory(string key)
    {
        if (_memory.TryGetValue(key, out var found) && found is MemoryEntry entry) Volatile.Write(ref entry.LogicalExpiry, long.MinValue);
    }

    // When each tag was last invalidated on this node (locally or through the backplane). A factory that started before
    // may have read the data from before the change, so its value is returned to its caller but not cached.
    private readonly ConcurrentDictionary<string, long> _tagInvalidatedAt = new(StringComparer.Ordinal);
    private int _tagInvalidations;

    // Far longer than any factory runs; older invalidation times are forgotten so the map stays small.
    private static readonly long TagInvalidationMemory = TimeSpan.FromMinutes(10).Ticks;

    private void RemoveMemoryByTag(string tag)
    {
        NoteTagInvalidated(tag);
        if (!_tagIndex.TryRemove(tag, out var set)) return;
        string[] keys;
        lock (set)
        {
            set.Removed = true;
            keys = [.. set.Keys];
        }
        foreach (var key in keys)
        {
            if (_memory.TryGetValue(key, out var found) && found is MemoryEntry entry && entry.HasTag(tag)) _memory.Remove(key);
        }
    }

    private void NoteTagInvalidated(string tag)
    {
        var now = _time.GetUtcNow().UtcTicks;
        _tagInvalidatedAt.AddOrUpdate(tag, now, (_, previous) => Math.Max(previous, now));
        if (Interlocked.Increment(ref _tagInvalidations) % 1024 == 0)
        {
            foreach (var (oldTag, at) in _tagInvalidatedAt)
            {
                if (at < now - TagInvalidationMemory) _tagInvalidatedAt.TryRemove(new KeyValuePair<string, long>(oldTag, at));
            }
        }
    }

    /// <summary>True when one of <paramref name="tags"/> was invalidated at or after <paramref name="since"/> (ticks).</summary>
    private bool TagInvalidatedSince(string[]? tags, long since)
    {
        if (tags is null) return false;
        foreach (var tag in tags)
        {
            if (_tagInvalidatedAt.TryGetValue(tag, out var at) && at >= since) return true;
        }
        return false;
    }

    private void AddToTagIndex(string tag, string key)
    {
        while (true)
        {
            var set = _tagIndex.GetOrAdd(tag, static _ => new TagKeys());
            lock (set)
            {
                if (set.Removed) continue;
                set.Keys.Add(key);
                return;
            }
        }
    }

    private void OnEvicted(string key, MemoryEntry evicted)
    {
        if (evicted.Tags is null) return;
        foreach (var tag in evicted.Tags)
        {
            if (!_tagIndex.TryGetValue(tag, out var set)) continue;
            lock (set)
            {
                // A replacement carrying the same tag keeps the key in the index.
                if (_memory.TryGetValue(key, out var current) && current is MemoryEntry entry && entry.HasTag(tag)) continue;
                set.Keys.Remove(key);
                if (set.Keys.Count == 0 && !set.Removed)
                {
                    set.Removed = true;
                    _tagIndex.TryRemove(new KeyValuePair<string, TagKeys>(tag, set));
                }
            }
        }
    }

    /// <summary>Tag index size, for tests.</summary>
    internal int TagIndexCount => _tagIndex.Count;

    private sealed class TagKeys
    {
        public HashSet<string> Keys { get; } = new(StringComparer.Ordinal);

        public bool Removed { get; set; }
    }
}
