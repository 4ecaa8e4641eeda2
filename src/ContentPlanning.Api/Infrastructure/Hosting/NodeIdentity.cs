using ContentPlanning.Caching;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Hosting;

/// <summary>
/// This node's name, set by <c>Cache__NodeId</c> (default: the machine name and a random suffix, drawn once per
/// process): Hangfire's server name and pool name, job claims, the LISTEN connection's application_name, coherence claims in Redis,
/// the progress stream's comment and the cache statistics all show the same one.
/// </summary>
public sealed class NodeIdentity(string id)
{
    public string Id { get; } = id;

    public override string ToString() => Id;
}

public static class NodeIdentityExtensions
{
    /// <summary>After AddTieredCache: the name is the (validated) <c>Cache:NodeId</c> setting.</summary>
    public static IServiceCollection AddNodeIdentity(this IServiceCollection services) =>
        services.AddSingleton(sp => new NodeIdentity(sp.GetRequiredService<IOptions<CacheSettings>>().Value.NodeId));
}
