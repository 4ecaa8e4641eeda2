using Npgsql;

namespace ContentPlanning.Api.Tests.Foundation;

public sealed class SchemaTests : DatabaseTest
{
    [Test]
    public async Task TheDatabaseRejectsASecondActiveStrategyForOneUser()
    {
        var first = await Testing.ScalarAsync<long>("INSERT INTO content_strategies (user_id, name) VALUES ('u-1', 'A') RETURNING id");
        var second = await Testing.ScalarAsync<long>("INSERT INTO content_strategies (user_id, name) VALUES ('u-1', 'B') RETURNING id");
        await Testing.ExecuteAsync("INSERT INTO strategy_activation_status (strategy_id, user_id, status) VALUES (@first, 'u-1', 'active')", new { first });

        var error = Assert.ThrowsAsync<PostgresException>(() =>
            Testing.ExecuteAsync("INSERT INTO strategy_activation_status (strategy_id, user_id, status) VALUES (@second, 'u-1', 'active')", new { second }));

        Assert.That(error!.SqlState, Is.EqualTo(PostgresErrorCodes.UniqueViolation));
        Assert.That(error.ConstraintName, Is.EqualTo("ux_strategy_activation_one_active_per_user"));
    }

    [Test]
    public async Task AnInactiveRowBesideTheActiveOneIsAllowed()
    {
        var first = await Testing.ScalarAsync<long>("INSERT INTO content_strategies (user_id, name) VALUES ('u-1', 'A') RETURNING id");
        var second = await Testing.ScalarAsync<long>("INSERT INTO content_strategies (user_id, name) VALUES ('u-1', 'B') RETURNING id");

        await Testing.ExecuteAsync("INSERT INTO strategy_activation_status (strategy_id, user_id, status) VALUES (@first, 'u-1', 'active'), (@second, 'u-1', 'inactive')", new { first, second });

        Assert.That(await Testing.ScalarAsync<long>("SELECT count(*) FROM strategy_activation_status WHERE user_id = 'u-1'"), Is.EqualTo(2));
    }

    [TestCase("")]
    [TestCase("has space")]
    [TestCase("semi;colon")]
    public void TheDatabaseRejectsMalformedUserIds(string userId)
    {
        var error = Assert.ThrowsAsync<PostgresException>(() =>
            Testing.ExecuteAsync("INSERT INTO user_profiles (user_id) VALUES (@userId)", new { userId }));
        Assert.That(error!.SqlState, Is.EqualTo(PostgresErrorCodes.CheckViolation));
    }

    [Test]
    public async Task EveryForeignKeyHasAnIndex()
    {
        var unindexed = await Testing.ScalarAsync<string?>("""
            SELECT string_agg(c.conrelid::regclass || '(' || a.attname || ')', ', ')
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f'
              AND NOT EXISTS (
                  SELECT 1 FROM pg_index i
                  WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1])
            """);
        Assert.That(unindexed, Is.Null, "foreign keys without a leading index column");
    }

    [Test]
    public async Task ASourceRowWrittenDirectlyInSqlBumpsTheUsersDataVersion()
    {
        await Testing.ExecuteAsync("INSERT INTO user_profiles (user_id, industry) VALUES ('u-1', 'retail')");
        var before = await Testing.ScalarAsync<long>("SELECT version FROM user_data_versions WHERE user_id = 'u-1'");

        await Testing.ExecuteAsync("UPDATE user_profiles SET industry = 'finance' WHERE user_id = 'u-1'");

        Assert.That(await Testing.ScalarAsync<long>("SELECT version FROM user_data_versions WHERE user_id = 'u-1'"), Is.GreaterThan(before));
    }
}
