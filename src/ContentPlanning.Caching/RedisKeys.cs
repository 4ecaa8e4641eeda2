using StackExchange.Redis;

namespace ContentPlanning.Caching;

/// <summary>Key layout of one named cache in Redis: <c>cp:v{format}:{cache}:</c> then k: entry, t: tag marker, ts: tag's key set.</summary>
internal sealed class RedisKeys(string cacheName)
{
    public string Prefix { get; } = $"cp:v{DistributedEnvelope.FormatVersion}:{cacheName}:";

    public RedisKey Entry(string key) => Prefix + "k:" + key;

    public string TagMarkerPrefix => Prefix + "t:";

    public string TagSetPrefix => Prefix + "ts:";

    public RedisKey TagMarker(string tag) => TagMarkerPrefix + tag;

    public RedisKey TagSet(string tag) => TagSetPrefix + tag;

    public RedisKey ClearMarker => Prefix + "clear";

    public RedisChannel Channel => new(Prefix + "bp", RedisChannel.PatternMode.Literal);
}
