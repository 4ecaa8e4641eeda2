using Dapper;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>Loads db/seed/demo_data.sql once; never called by the API itself, only by the <c>seed</c> verb.</summary>
public static class DemoData
{
    public static async Task<bool> SeedAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var dataSource = services.GetRequiredService<NpgsqlDataSource>();
        var sql = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "seed", "demo_data.sql"), cancellationToken);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var present = await connection.ExecuteScalarAsync<bool>(new CommandDefinition(
            "SELECT EXISTS (SELECT 1 FROM user_profiles WHERE user_id = 'demo-alice')", transaction: transaction, cancellationToken: cancellationToken));
        if (present)
        {
            return false;
        }

        await connection.ExecuteAsync(new CommandDefinition(sql, transaction: transaction, cancellationToken: cancellationToken));
        await transaction.CommitAsync(cancellationToken);
        return true;
    }
}
