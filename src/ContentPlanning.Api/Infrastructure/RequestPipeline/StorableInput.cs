using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;

namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

/// <summary>
/// What PostgreSQL can store and the service can answer, checked once for every request in the validation step, so no
/// slice can forget it: text and jsonb cannot hold U+0000; jsonb numbers must be finite (as a double); stored JSON may be
/// nested at most <see cref="MaxJsonDepth"/> levels, because answers wrap it a few levels deeper and serialization stops
/// at 64; a JSON object's keys must be unique and every escape must be valid UTF-16 (no lone surrogate), because the
/// service reads such values back as dictionaries and strings. Walks the request's own records (strings, string lists, JSON values, nested records of this assembly); each
/// failure names the top-level field in snake_case, as the validators do.
/// </summary>
internal static class StorableInput
{
    public const int MaxJsonDepth = 32;

    private static readonly ConcurrentDictionary<Type, (PropertyInfo Property, string Name)[]> Fields = new();

    public static List<ValidationFailure> Check(object request)
    {
        var failures = new List<ValidationFailure>();
        foreach (var (property, name) in FieldsOf(request.GetType()))
        {
            Walk(property.GetValue(request), name, failures, records: 0);
        }

        return failures;
    }

    private static void Walk(object? value, string field, List<ValidationFailure> failures, int records)
    {
        switch (value)
        {
            case null:
                return;
            case string text:
                CheckText(text, field, failures);
                return;
            case JsonNode node:
                CheckJson(node, field, failures);
                return;
            case IEnumerable items and not IDictionary:
                foreach (var item in items)
                {
                    Walk(item, field, failures, records);
                }

                return;
        }

        // Nested records of this service (e.g. shared field sets); framework types hold no user text.
        if (records < 3 && value.GetType().Assembly == typeof(StorableInput).Assembly && !value.GetType().IsEnum)
        {
            foreach (var (property, _) in FieldsOf(value.GetType()))
            {
                Walk(property.GetValue(value), field, failures, records + 1);
            }
        }
    }

    // The node is read back as JSON text and walked with a reader: a JsonObject read from the request keeps its raw
    // text until first enumerated, so duplicate keys and lone surrogate escapes would only surface later, as exceptions
    // wherever the value is first used (answers, the generator, the hash of a request). Writing the text is the one
    // place that meets an unpaired surrogate: the writer refuses invalid UTF-16, and that refusal is this check.
    private static void CheckJson(JsonNode node, string field, List<ValidationFailure> failures)
    {
        byte[] utf8;
        try
        {
            utf8 = JsonSerializer.SerializeToUtf8Bytes(node, TextWriterOptions);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or ArgumentException)
        {
            Add(failures, field, "must not contain a lone surrogate escape (\\uD800-\\uDFFF without its pair) in a key or value.");
            return;
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { MaxDepth = MaxReadDepth });
        var keys = new Stack<HashSet<string>>();
        var depth = 0;
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject or JsonTokenType.StartArray:
                    if (++depth > MaxJsonDepth)
                    {
                        Add(failures, field, $"must not be nested deeper than {MaxJsonDepth} levels.");
                        return;
                    }

                    if (reader.TokenType == JsonTokenType.StartObject)
                    {
                        keys.Push(new HashSet<string>(StringComparer.Ordinal));
                    }

                    break;
                case JsonTokenType.EndObject or JsonTokenType.EndArray:
                    depth--;
                    if (reader.TokenType == JsonTokenType.EndObject)
                    {
                        keys.Pop();
                    }

                    break;
                case JsonTokenType.PropertyName:
                    var key = reader.GetString()!;
                    CheckText(key, field, failures);
                    if (!keys.Peek().Add(key))
                    {
                        Add(failures, field, $"holds the key '{Shorten(key)}' twice in one object; keys must be unique.");
                    }

                    break;
                case JsonTokenType.String:
                    CheckText(reader.GetString()!, field, failures);
                    break;
                case JsonTokenType.Number when !reader.TryGetDouble(out var number) || !double.IsFinite(number):
                    Add(failures, field, "holds a number too large to store (at most about 1.8e308).");
                    break;
            }
        }
    }

    private const int MaxReadDepth = 256;

    private static readonly JsonSerializerOptions TextWriterOptions = new() { MaxDepth = MaxReadDepth };

    private static void CheckText(string text, string field, List<ValidationFailure> failures)
    {
        if (text.Contains('\0'))
        {
            Add(failures, field, "must not contain the NUL character (U+0000).");
        }
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "...";

    private static void Add(List<ValidationFailure> failures, string field, string message)
    {
        if (!failures.Exists(f => f.PropertyName == field && f.ErrorMessage.EndsWith(message, StringComparison.Ordinal)))
        {
            failures.Add(new ValidationFailure(field, $"'{field}' {message}"));
        }
    }

    // Value types (numbers, flags, dates, enums, cursors) hold no text: not read at all, so no boxing per request.
    private static (PropertyInfo Property, string Name)[] FieldsOf(Type type) => Fields.GetOrAdd(type, static t =>
        [.. t.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.CanRead && !(Nullable.GetUnderlyingType(p.PropertyType) ?? p.PropertyType).IsValueType)
            .Select(p => (p, JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Name)))]);
}
