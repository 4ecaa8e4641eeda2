using ContentPlanning.Api.Infrastructure.Database;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure;

/// <summary>
/// Verbs run instead of the web server: <c>migrate</c> applies pending migrations, <c>seed</c> migrates and loads
/// the demo data (idempotent). Usage: <c>dotnet run --project src/ContentPlanning.Api -- migrate</c>.
/// </summary>
public static partial class CommandLine
{
    private static readonly string[] Verbs = ["migrate", "seed"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Verbs.Contains(args[0], StringComparer.OrdinalIgnoreCase);

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ContentPlanning.Cli");
        var migrator = app.Services.GetRequiredService<DatabaseMigrator>();
        var applied = await migrator.MigrateAsync();
        LogMigrated(logger, applied.Count);
        if (args[0].Equals("seed", StringComparison.OrdinalIgnoreCase))
        {
            var seeded = await DemoData.SeedAsync(app.Services);
            LogSeeded(logger, seeded ? "loaded" : "already present, left as is");
        }

        return 0;
    }

    /// <summary>Applies pending migrations before the server accepts requests, unless Database__MigrateOnStart is false.</summary>
    public static async Task MigrateOnStartAsync(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStart)
        {
            await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(app.Lifetime.ApplicationStopping);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Migrations: {Count} applied")]
    private static partial void LogMigrated(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo data {Outcome}")]
    private static partial void LogSeeded(ILogger logger, string outcome);
}
