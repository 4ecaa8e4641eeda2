using System.Collections;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;

namespace ContentPlanning.Api.Infrastructure.Features;

/// <summary>
/// What PostgreSQL can store and the service can answer, checked once for every request in the validation step, so no
/// slice can forget it: text and jsonb cannot hold U+0000; jsonb numbers must be finite (as a double); stored JSON may be
/// nested at most <see cref="MaxJsonDepth"/> levels, because answers wrap it a few levels deeper and serialization stops
/// at 64. Walks the request's own records (strings, string lists, JSON values, nested records of this assembly); each
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
                if (text.Contains('\0'))
                {
                    Add(failures, field, "must not contain the NUL character (U+0000).");
                }

                return;
            case JsonNode node:
                CheckJson(node, field, failures, depth: 1);
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

    private static void CheckJson(JsonNode node, string field, List<ValidationFailure> failures, int depth)
    {
        if (depth > MaxJsonDepth)
        {
            Add(failures, field, $"must not be nested deeper than {MaxJsonDepth} levels.");
            return;
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, child) in obj)
                {
                    if (key.Contains('\0'))
                    {
                        Add(failures, field, "must not contain the NUL character (U+0000).");
                    }

                    if (child is not null)
                    {
                        CheckJson(child, field, failures, depth + 1);
                    }
                }

                break;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (child is not null)
                    {
                        CheckJson(child, field, failures, depth + 1);
                    }
                }

                break;
            case JsonValue value when value.TryGetValue<JsonElement>(out var element):
                if (element.ValueKind == JsonValueKind.String && element.GetString()!.Contains('\0'))
                {
                    Add(failures, field, "must not contain the NUL character (U+0000).");
                }
                else if (element.ValueKind == JsonValueKind.Number && (!element.TryGetDouble(out var number) || !double.IsFinite(number)))
                {
                    Add(failures, field, "holds a number too large to store (at most about 1.8e308).");
                }

                break;
            case JsonValue value when value.TryGetValue<string>(out var text) && text.Contains('\0'):
                Add(failures, field, "must not contain the NUL character (U+0000).");
                break;
        }
    }

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
