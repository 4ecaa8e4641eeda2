using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Database;

public static class DatabaseServiceCollectionExtensions
{
    public static IServiceCollection AddDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        DapperTypeHandlers.Register();
        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var settings = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        var connectionString = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw Invalid("ConnectionStrings__Postgres is required (for example Host=127.0.0.1;Port=55432;Username=app;Database=content_planning).");
        }

        var directConnectionString = configuration.GetConnectionString("PostgresDirect");
        if (settings.Pooler == DatabasePooler.Transaction && string.IsNullOrWhiteSpace(directConnectionString))
        {
            throw Invalid("Database__Pooler=transaction needs ConnectionStrings__PostgresDirect: the node's LISTEN connection, the migrator's lock and " +
                          "Hangfire need a session of their own, which a transaction pooler does not keep (point it at PostgreSQL itself).");
        }

        NpgsqlDataSourceBuilder builder;
        try
        {
            builder = new NpgsqlDataSourceBuilder(connectionString);
            _ = new NpgsqlConnectionStringBuilder(directConnectionString ?? connectionString);
        }
        catch (ArgumentException ex)
        {
            throw Invalid($"ConnectionStrings__Postgres or ConnectionStrings__PostgresDirect is not a valid connection string: {ex.Message}");
        }

        var request = builder.ConnectionStringBuilder;
        request.ApplicationName ??= DatabaseConnections.RequestPoolName;
        if (!Sets(connectionString, "Maximum Pool Size", "MaxPoolSize", "Max Pool Size"))
        {
            request.MaxPoolSize = settings.MaxPoolSize;
        }

        // The slices' statements are fixed texts run again and again: let Npgsql prepare the frequent ones, so PostgreSQL
        // stops planning them on every call. Not through a transaction pooler: a prepared statement lives in one server
        // session, and the next transaction may run on another ("prepared statement _auto0 does not exist").
        if (!Sets(connectionString, "Max Auto Prepare", "MaxAutoPrepare"))
        {
            request.MaxAutoPrepare = settings.Pooler == DatabasePooler.Transaction ? 0 : 64;
        }

        // A transaction pooler resets nothing per client and the request path keeps no session state: Npgsql's DISCARD ALL
        // on every return to its pool would only cost one more round trip (a transaction through the pooler) each time.
        if (settings.Pooler == DatabasePooler.Transaction && !Sets(connectionString, "No Reset On Close", "NoResetOnClose"))
        {
            request.NoResetOnClose = true;
        }

        // Database__CommandTimeoutSeconds bounds every command of the service (Dapper and the migrator use the connection's
        // default), unless the connection string sets its own Command Timeout.
        if (!Sets(connectionString, "Command Timeout", "CommandTimeout"))
        {
            request.CommandTimeout = settings.CommandTimeoutSeconds;
        }

        // Migrations get the same default statement timeout; the migrator gives each migration its own, longer one.
        var direct = new NpgsqlConnectionStringBuilder(string.IsNullOrWhiteSpace(directConnectionString) ? connectionString : directConnectionString);
        if (!Sets(direct.ConnectionString, "Command Timeout", "CommandTimeout"))
        {
            direct.CommandTimeout = settings.CommandTimeoutSeconds;
        }

        services.AddSingleton(_ => builder.Build());
        // Built by the container (not handed to it) so that the container disposes it with the host.
        services.AddSingleton(_ => new DatabaseConnections(connectionString, direct.ConnectionString));
        services.AddSingleton<DatabaseMigrator>();
        services.AddSingleton<DatabaseListener>();
        services.AddHostedService(sp => sp.GetRequiredService<DatabaseListener>());
        return services;
    }

    private static bool Sets(string connectionString, params string[] keys) =>
        keys.Any(key => connectionString.Contains(key, StringComparison.OrdinalIgnoreCase));

    private static OptionsValidationException Invalid(string message) =>
        new("ConnectionStrings:Postgres", typeof(DatabaseOptions), [message]);
}
