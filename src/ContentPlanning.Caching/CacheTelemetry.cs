namespace ContentPlanning.Caching;

/// <summary>
/// Names to subscribe to: <c>AddSource(CacheTelemetry.ActivitySourceName)</c>, <c>AddMeter(CacheTelemetry.MeterName)</c>.
/// FusionCache emits its own spans and metrics under this name (what ZiggyCreatures.FusionCache.OpenTelemetry would register).
/// </summary>
public static class CacheTelemetry
{
    public const string ActivitySourceName = "ZiggyCreatures.Caching.Fusion";
    public const string MeterName = "ZiggyCreatures.Caching.Fusion";
}
