using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ContentPlanning.Caching;

/// <summary>An entry as read from L2. Times are UTC ticks.</summary>
internal readonly record struct DistributedEntry<T>(T Value, long CreatedAt, long LogicalExpiry, long FailSafeExpiry, string[]? Tags);

/// <summary>
/// The L2 value: one JSON object. Its first two members have a fixed width (<c>{"exp":"…19 digits…","created":"…19 digits…"</c>)
/// so that the Lua scripts can expire an entry or compare ages with string operations, without decoding the user's value.
/// </summary>
internal static class DistributedEnvelope
{
    public const int FormatVersion = 1;

    public const string Header = "{\"exp\":\"";
    private const string CreatedMember = "\",\"created\":\"";

    /// <summary>1-based positions for Lua's string.sub.</summary>
    public static readonly int ExpiryPosition = Header.Length + 1;
    public static readonly int CreatedPosition = Header.Length + 19 + CreatedMember.Length + 1;

    public static string Ticks(long ticks) => ticks.ToString("D19", CultureInfo.InvariantCulture);

    public static byte[] Write<T>(T value, long createdAt, long logicalExpiry, long failSafeExpiry, string[]? tags, JsonSerializerOptions json)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("exp", Ticks(logicalExpiry));
            writer.WriteString("created", Ticks(createdAt));
            writer.WriteNumber("v", FormatVersion);
            writer.WriteString("fsexp", Ticks(failSafeExpiry));
            if (tags is { Length: > 0 })
            {
                writer.WriteStartArray("tags");
                foreach (var tag in tags) writer.WriteStringValue(tag);
                writer.WriteEndArray();
            }
            writer.WritePropertyName("value");
            JsonSerializer.Serialize(writer, value, json);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>False for anything that is not a complete envelope of this format holding a <typeparamref name="T"/>.</summary>
    public static bool TryRead<T>(byte[] data, JsonSerializerOptions json, out DistributedEntry<T> entry, out Exception? error)
    {
        entry = default;
        error = null;
        try
        {
            if (data.Length < Header.Length || !data.AsSpan(0, Header.Length).SequenceEqual(Encoding.ASCII.GetBytes(Header))) return false;

            var reader = new Utf8JsonReader(data);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return false;

            long? exp = null, created = null, fsexp = null;
            int? version = null;
            string[]? tags = null;
            T value = default!;
            var hasValue = false;

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var name = reader.GetString();
                if (!reader.Read()) return false;
                switch (name)
                {
                    case "exp": exp = ParseTicks(ref reader); break;
                    case "created": created = ParseTicks(ref reader); break;
                    case "fsexp": fsexp = ParseTicks(ref reader); break;
                    case "v": version = reader.GetInt32(); break;
                    case "tags":
                        if (reader.TokenType != JsonTokenType.StartArray) return false;
                        var list = new List<string>();
                        while (reader.Read() && reader.TokenType == JsonTokenType.String) list.Add(reader.GetString()!);
                        if (reader.TokenType != JsonTokenType.EndArray) return false;
                        tags = [.. list];
                        break;
                    case "value":
                        value = JsonSerializer.Deserialize<T>(ref reader, json)!;
                        hasValue = true;
                        break;
                    default: reader.Skip(); break;
                }
            }

            if (reader.TokenType != JsonTokenType.EndObject || version != FormatVersion || !hasValue
                || exp is null || created is null || fsexp is null)
            {
                return false;
            }

            entry = new DistributedEntry<T>(value, created.Value, exp.Value, fsexp.Value, tags);
            return true;
        }
        catch (Exception ex)
        {
            // Whatever another writer put there (or a value no longer matching T) is a miss, never the caller's exception.
            error = ex;
            return false;
        }
    }

    private static long ParseTicks(ref Utf8JsonReader reader) =>
        long.Parse(reader.GetString() ?? throw new FormatException("null time"), NumberStyles.None, CultureInfo.InvariantCulture);
}
