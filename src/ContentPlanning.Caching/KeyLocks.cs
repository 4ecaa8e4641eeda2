using System.Collections.Concurrent;

namespace ContentPlanning.Caching;

/// <summary>
/// One semaphore per key while anybody holds or waits for it. Reference-counted: the last one out removes it, so a
/// million distinct keys do not leave a million semaphores behind.
/// </summary>
internal sealed class KeyLocks
{
    private readonly ConcurrentDictionary<string, KeyLock> _locks = new(StringComparer.Ordinal);

    /// <summary>Live lock objects; 0 when nobody holds or waits for any key.</summary>
    public int Count => _locks.Count;

    /// <summary>Takes a reference; pair with exactly one <see cref="Release(KeyLock)"/>.</summary>
    public KeyLock Rent(string key)
    {
        while (true)
        {
            if (_locks.TryGetValue(key, out var existing))
            {
                lock (existing)
                {
                    if (existing.References > 0)
                    {
                        existing.References++;
                        return existing;
                    }
                }
                // Its last user just removed it: take a fresh one.
                continue;
            }

            var created = new KeyLock(key);
            if (_locks.TryAdd(key, created)) return created;
        }
    }

    public void Release(KeyLock keyLock)
    {
        lock (keyLock)
        {
            if (--keyLock.References > 0) return;
            _locks.TryRemove(new KeyValuePair<string, KeyLock>(keyLock.Key, keyLock));
        }
    }
}

internal sealed class KeyLock(string key)
{
    public string Key { get; } = key;

    public SemaphoreSlim Semaphore { get; } = new(1, 1);

    // Guarded by lock(this).
    public int References { get; set; } = 1;
}
