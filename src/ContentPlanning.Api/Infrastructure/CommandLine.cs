using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Security;
using Microsoft.Extensions.Options;

namespace ContentPlanning.Api.Infrastructure;

/// <summary>
/// Verbs run instead of the web server: <c>migrate</c> applies pending migrations, <c>seed</c> migrates and loads
/// the demo data (idempotent), <c>token SUBJECT [service|user] [HOURS]</c> prints a bearer token signed with
/// Auth__SigningKey (service: read, write and any-user; user: read and write on its own data only).
/// Usage: <c>dotnet run --project src/ContentPlanning.Api -- migrate</c>.
/// </summary>
public static partial class CommandLine
{
    private static readonly string[] Verbs = ["migrate", "seed", "token"];

    public static bool IsCommand(string[] args) => args.Length > 0 && Verbs.Contains(args[0], StringComparer.OrdinalIgnoreCase);

    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        if (args[0].Equals("token", StringComparison.OrdinalIgnoreCase))
        {
            return PrintToken(app, args);
        }

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ContentPlanning.Cli");
        var migrator = app.Services.GetRequiredService<DatabaseMigrator>();
        var applied = await migrator.MigrateAsync();
        await migrator.ApplySettingsAsync();
        LogMigrated(logger, applied.Count);
        if (args[0].Equals("seed", StringComparison.OrdinalIgnoreCase))
        {
            var seeded = await DemoData.SeedAsync(app.Services);
            LogSeeded(logger, seeded ? "loaded" : "already present, left as is");
        }

        return 0;
    }

    private static int PrintToken(WebApplication app, string[] args)
    {
        var options = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        if (args.Length < 2 || options.SigningKeyBytes() is null)
        {
            Console.Error.WriteLine("usage: token SUBJECT [service|user] [HOURS]  (needs Auth__SigningKey, Auth__Issuer, Auth__Audience)");
            return 2;
        }

        var service = args.Length < 3 || args[2].Equals("service", StringComparison.OrdinalIgnoreCase);
        var hours = args.Length > 3 && double.TryParse(args[3], System.Globalization.CultureInfo.InvariantCulture, out var h) ? h : 12;
        // Only the token goes to stdout, so scripts can capture it.
        Console.Out.WriteLine(LocalTokens.Mint(options, args[1], service ? LocalTokens.ServiceScopes : LocalTokens.UserScopes, TimeSpan.FromHours(hours)));
        return 0;
    }

    /// <summary>
    /// Applies pending migrations before the server accepts requests, unless Database__MigrateOnStart is false, then writes
    /// the settings the database's triggers read (the user byte bound).
    /// </summary>
    public static async Task MigrateOnStartAsync(this WebApplication app)
    {
        var migrator = app.Services.GetRequiredService<DatabaseMigrator>();
        if (app.Services.GetRequiredService<IOptions<DatabaseOptions>>().Value.MigrateOnStart)
        {
            await migrator.MigrateAsync(app.Lifetime.ApplicationStopping);
            await migrator.ApplySettingsAsync(app.Lifetime.ApplicationStopping);
            return;
        }

        try
        {
            if (!await migrator.ApplySettingsAsync(app.Lifetime.ApplicationStopping))
            {
                LogSettingsNotApplied(app.Logger, "migration 0011 is not applied yet");
            }
        }
        catch (Npgsql.NpgsqlException ex)
        {
            // Without migrating on start, a node may start before the database answers; the bound then stays as last written.
            LogSettingsNotApplied(app.Logger, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Database settings (Database__MaxUserSourceBytes) not written at start: {Detail}")]
    private static partial void LogSettingsNotApplied(ILogger logger, string detail);

    [LoggerMessage(Level = LogLevel.Information, Message = "Migrations: {Count} applied")]
    private static partial void LogMigrated(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo data {Outcome}")]
    private static partial void LogSeeded(ILogger logger, string outcome);
}
