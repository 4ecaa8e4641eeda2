using System.Data;
using System.Text.Json.Nodes;
using Dapper;
using Npgsql;
using NpgsqlTypes;

namespace ContentPlanning.Api.Infrastructure.Database;

/// <summary>How Dapper maps the column types the slices use: jsonb as <see cref="JsonNode"/>, timestamptz as UTC <see cref="DateTimeOffset"/>, snake_case columns.</summary>
internal static class DapperTypeHandlers
{
    public static void Register()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        SqlMapper.AddTypeHandler(new JsonNodeHandler());
        SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
    }

    private sealed class JsonNodeHandler : SqlMapper.TypeHandler<JsonNode?>
    {
        public override JsonNode? Parse(object value) => value is string json ? JsonNode.Parse(json) : null;

        public override void SetValue(IDbDataParameter parameter, JsonNode? value)
        {
            parameter.Value = value is null ? DBNull.Value : value.ToJsonString();
            if (parameter is NpgsqlParameter npgsql)
            {
                npgsql.NpgsqlDbType = NpgsqlDbType.Jsonb;
            }
        }
    }

    // Npgsql reads timestamptz as a UTC DateTime; the API speaks DateTimeOffset.
    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override DateTimeOffset Parse(object value) => value switch
        {
            DateTime dateTime => new DateTimeOffset(DateTime.SpecifyKind(dateTime, DateTimeKind.Utc)),
            DateTimeOffset offset => offset,
            _ => throw new DataException($"Cannot read {value.GetType().Name} as a timestamp."),
        };

        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value)
        {
            parameter.Value = value.ToUniversalTime();
            if (parameter is NpgsqlParameter npgsql)
            {
                npgsql.NpgsqlDbType = NpgsqlDbType.TimestampTz;
            }
        }
    }
}
