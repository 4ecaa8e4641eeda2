using System.Text.Json;
using ZiggyCreatures.Caching.Fusion.Serialization;

namespace ContentPlanning.Caching;

/// <summary>
/// Stands in for ZiggyCreatures.FusionCache.Serialization.SystemTextJson (no version restores here): FusionCache's L2
/// payloads as UTF-8 JSON with the service's own options, so a value reads back exactly as the API writes it.
/// Replace with the package by changing the one registration line in <see cref="TieredCacheServiceCollectionExtensions"/>.
/// </summary>
public sealed class SystemTextJsonFusionCacheSerializer(JsonSerializerOptions? options = null) : IFusionCacheSerializer
{
    // Fields included so that value tuples (whose items are fields) round-trip, as FusionCache checks at start.
    private readonly JsonSerializerOptions _options = new(options ?? new JsonSerializerOptions(JsonSerializerDefaults.Web)) { IncludeFields = true };

    public byte[] Serialize<T>(T? obj) => JsonSerializer.SerializeToUtf8Bytes(obj, _options);

    public T? Deserialize<T>(byte[] data) => JsonSerializer.Deserialize<T>(data, _options);

    // Payloads are already in memory: the async forms do the same work without a stream.
    public ValueTask<byte[]> SerializeAsync<T>(T? obj, CancellationToken token = default) => new(Serialize(obj));

    public ValueTask<T?> DeserializeAsync<T>(byte[] data, CancellationToken token = default) => new(Deserialize<T>(data));
}
