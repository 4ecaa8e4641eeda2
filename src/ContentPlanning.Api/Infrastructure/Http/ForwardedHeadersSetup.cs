using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure.Http;

/// <summary>Settings of <c>ForwardedHeaders</c>: whose X-Forwarded-For/-Proto this node believes.</summary>
public sealed class ForwardedHeadersSettings
{
    public const string Section = "ForwardedHeaders";

    /// <summary>Read X-Forwarded-For and X-Forwarded-Proto (ForwardedHeaders__Enabled, default false: only behind a trusted proxy).</summary>
    public bool Enabled { get; set; }

    /// <summary>Proxy addresses whose headers are believed (ForwardedHeaders__KnownProxies__0, ... or one comma-separated value).</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Proxy networks in CIDR form (ForwardedHeaders__KnownNetworks__0=10.0.0.0/8, ...). Loopback is always known.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>How many proxies in a row to unwrap (ForwardedHeaders__ForwardLimit, default 1).</summary>
    public int ForwardLimit { get; set; } = 1;

    internal static IEnumerable<string> Split(IEnumerable<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>A list setting given either as items (<c>Name__0</c>, <c>Name__1</c>) or as one comma-separated value (<c>Name</c>).</summary>
    internal static string[] List(IConfigurationSection section) =>
        Split(section.GetChildren().Select(c => c.Value ?? "").Prepend(section.Value ?? "")).ToArray();
}

/// <summary>
/// ASP.NET Core's forwarded-headers middleware, off by default. On, behind a trusted proxy, the client address (rate limit
/// partitions, logs, traces) is the forwarded one; headers from any other sender are ignored, so a client cannot pick
/// its own address.
/// </summary>
public static class ForwardedHeadersSetup
{
    public static IServiceCollection AddForwardedClients(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(ForwardedHeadersSettings.Section);
        services.AddOptions<ForwardedHeadersSettings>().Bind(section)
            .Configure(s =>
            {
                s.KnownProxies = ForwardedHeadersSettings.List(section.GetSection(nameof(s.KnownProxies)));
                s.KnownNetworks = ForwardedHeadersSettings.List(section.GetSection(nameof(s.KnownNetworks)));
            })
            .Validate(s => ForwardedHeadersSettings.Split(s.KnownProxies).All(p => IPAddress.TryParse(p, out _)), "ForwardedHeaders__KnownProxies must hold IP addresses.")
            .Validate(s => ForwardedHeadersSettings.Split(s.KnownNetworks).All(n => System.Net.IPNetwork.TryParse(n, out _)), "ForwardedHeaders__KnownNetworks must hold CIDR networks (10.0.0.0/8).")
            .Validate(s => s.ForwardLimit is >= 1 and <= 10, "ForwardedHeaders__ForwardLimit must be between 1 and 10.")
            .ValidateOnStart();
        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ForwardedHeadersSettings>>((options, settings) =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            options.ForwardLimit = settings.Value.ForwardLimit;
            foreach (var proxy in ForwardedHeadersSettings.Split(settings.Value.KnownProxies))
            {
                options.KnownProxies.Add(IPAddress.Parse(proxy));
            }

            foreach (var network in ForwardedHeadersSettings.Split(settings.Value.KnownNetworks))
            {
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
            }
        });
        return services;
    }

    /// <summary>First in the pipeline, so everything after it sees the client, not the proxy.</summary>
    public static WebApplication UseForwardedClients(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value.Enabled)
        {
            app.UseForwardedHeaders();
        }

        return app;
    }
}
