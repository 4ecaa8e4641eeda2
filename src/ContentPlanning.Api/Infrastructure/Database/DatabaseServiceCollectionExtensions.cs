using Microsoft.Extensions.Options;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Database;

public static class DatabaseServiceCollectionExtensions
{
    public static IServiceCollection AddDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>()
            .Bind(configuration.GetSection(DatabaseOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var connectionString = configuration.GetConnectionString("Postgres");
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new OptionsValidationException("ConnectionStrings:Postgres", typeof(DatabaseOptions),
                ["ConnectionStrings__Postgres is required (for example Host=127.0.0.1;Port=55432;Username=app;Database=content_planning)."]);
        }

        NpgsqlDataSourceBuilder builder;
        try
        {
            builder = new NpgsqlDataSourceBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new OptionsValidationException("ConnectionStrings:Postgres", typeof(DatabaseOptions),
                [$"ConnectionStrings__Postgres is not a valid connection string: {ex.Message}"]);
        }

        builder.ConnectionStringBuilder.ApplicationName ??= "content-planning";

        // The slices' statements are fixed texts run again and again: let Npgsql prepare the frequent ones, so
        // PostgreSQL stops planning them on every call (unless the connection string sets its own value).
        if (!connectionString.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase) &&
            !connectionString.Contains("MaxAutoPrepare", StringComparison.OrdinalIgnoreCase))
        {
            builder.ConnectionStringBuilder.MaxAutoPrepare = 64;
        }

        // Database__CommandTimeoutSeconds bounds every command of the service (Dapper and the migrator use the connection's
        // default), unless the connection string sets its own Command Timeout.
        if (!connectionString.Contains("Command Timeout", StringComparison.OrdinalIgnoreCase) &&
            !connectionString.Contains("CommandTimeout", StringComparison.OrdinalIgnoreCase))
        {
            builder.ConnectionStringBuilder.CommandTimeout = configuration.GetSection(DatabaseOptions.Section)
                .GetValue<int?>(nameof(DatabaseOptions.CommandTimeoutSeconds)) ?? new DatabaseOptions().CommandTimeoutSeconds;
        }

        // The per-user byte bound lives in a trigger (every writer obeys it); this node's connections tell it the
        // configured value. A bad value fails at start through the options validation, before any connection.
        var maxUserSourceBytes = configuration.GetSection(DatabaseOptions.Section).GetValue<long?>(nameof(DatabaseOptions.MaxUserSourceBytes))
            ?? new DatabaseOptions().MaxUserSourceBytes;
        builder.ConnectionStringBuilder.Options =
            $"{builder.ConnectionStringBuilder.Options} -c content_planning.max_user_source_bytes={maxUserSourceBytes}".Trim();
        services.AddSingleton(_ => builder.Build());
        services.AddSingleton<DatabaseMigrator>();
        return services;
    }
}
