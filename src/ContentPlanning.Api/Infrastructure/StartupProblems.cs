using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Net.Sockets;
using System.Reflection;
using System.Text.RegularExpressions;
using ContentPlanning.Api.Features.CalendarJobs;
using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.Hosting;
using ContentPlanning.Api.Infrastructure.Security;
using ContentPlanning.Caching;
using Microsoft.Extensions.Options;
using Npgsql;
using ZiggyCreatures.Caching.Fusion;

namespace ContentPlanning.Api.Infrastructure;

/// <summary>
/// Start-up problems a person fixes by changing a setting: each becomes one line on stderr naming the environment variable
/// (<c>Database__CommandTimeoutSeconds</c>), what is wrong with its value and the form expected, and the process exits 1
/// without a stack trace. Every options class bound from a section (a <c>Section</c>/<c>SectionName</c> constant) is
/// checked at once, before any connection is opened: values that do not convert, then the classes' own validation.
/// Anything else still fails with its stack trace: that is a defect, not a setting.
/// </summary>
public static partial class StartupProblems
{
    public const int ExitCode = 1;

    /// <summary>Checks every setting now (not when the host starts, after migrations); throws <see cref="SettingsException"/>.</summary>
    public static void ValidateSettings(this WebApplication app, IServiceCollection services)
    {
        var configuration = app.Configuration;
        var problems = new List<string>();
        var optionsTypes = OptionsTypes(services).ToList();
        foreach (var (type, section) in optionsTypes)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
            {
                var value = configuration[$"{section}:{property.Name}"];
                if (value is not null && !Converts(value, property.PropertyType))
                {
                    problems.Add($"{Variable(section, property.Name)}: {Shown(property.Name, value)} is not {Expected(property)}.");
                }
            }
        }

        if (problems.Count == 0)
        {
            try
            {
                app.Services.GetService<IStartupValidator>()?.Validate();
            }
            catch (Exception e) when (e is OptionsValidationException or AggregateException)
            {
                var failures = e is AggregateException aggregate ? aggregate.Flatten().InnerExceptions.OfType<OptionsValidationException>() : [(OptionsValidationException)e];
                problems.AddRange(failures.SelectMany(f => f.Failures.Select(message => Describe(message, f.OptionsType, configuration, optionsTypes))));
            }
        }

        if (problems.Count > 0)
        {
            throw new SettingsException(problems.Distinct().ToList());
        }
    }

    /// <summary>The lines for an exception that is a settings problem, or null for anything else.</summary>
    public static IReadOnlyList<string>? Describe(Exception exception, IConfiguration configuration) => exception switch
    {
        SettingsException settings => settings.Problems,
        OptionsValidationException options => options.Failures.Select(f => Describe(f, options.OptionsType, configuration, [])).ToList(),
        AggregateException { InnerExceptions: [var single] } => Describe(single, configuration),
        InvalidOperationException when ConversionFailure().Match(exception.Message) is { Success: true } conversion =>
            [Unconvertible(conversion.Groups["path"].Value, conversion.Groups["value"].Value)],
        PostgresException { SqlState: "28P01" or "28000" } => [$"ConnectionStrings__Postgres: PostgreSQL refused the login ({exception.Message.Split('\n')[0]}); expected a user and password it accepts."],
        PostgresException { SqlState: "3D000" } => [$"ConnectionStrings__Postgres: {exception.Message.Split('\n')[0]}; expected the name of an existing database (Database=...)."],
        NpgsqlException { InnerException: SocketException or TimeoutException } or NpgsqlException { InnerException: IOException } or SocketException =>
            [$"ConnectionStrings__Postgres: cannot reach PostgreSQL at {PostgresAddress(configuration)} ({(exception.InnerException ?? exception).Message}); " +
             "expected the connection string of a running PostgreSQL, e.g. Host=127.0.0.1;Port=55432;Username=app;Database=content_planning."],
        IOException { InnerException: { } inner } when inner.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
            [$"ASPNETCORE_URLS (or --urls): {exception.Message.Split('\n')[0]}; expected a free address: is another instance running?"],
        IOException when exception.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
            [$"ASPNETCORE_URLS (or --urls): {exception.Message.Split('\n')[0]}; expected a free address: is another instance running?"],
        _ => null,
    };

    /// <summary>Prints the lines on stderr, each prefixed so a log search finds them, and returns the exit code.</summary>
    public static int Report(IReadOnlyList<string> problems)
    {
        Console.Error.WriteLine($"Content Planning cannot start: {problems.Count} setting{(problems.Count == 1 ? "" : "s")} to fix.");
        foreach (var problem in problems)
        {
            Console.Error.WriteLine("  " + problem);
        }

        return ExitCode;
    }

    /// <summary>A setting path as the environment variable that sets it: <c>Database:CommandTimeoutSeconds</c> is <c>Database__CommandTimeoutSeconds</c>.</summary>
    public static string Variable(string section, string key) => $"{section}:{key}".Replace(":", "__", StringComparison.Ordinal);

    private static string Describe(string message, Type optionsType, IConfiguration configuration, List<(Type Type, string Section)> optionsTypes)
    {
        var section = SectionOf(optionsType) ?? optionsTypes.FirstOrDefault(t => t.Type == optionsType).Section;
        var annotation = DataAnnotationFailure().Match(message);
        if (annotation.Success && section is not null && optionsType.GetProperty(annotation.Groups["member"].Value) is { } property)
        {
            var value = configuration[$"{section}:{property.Name}"];
            var fault = value is null ? "is missing" : $"{Shown(property.Name, value)} is {(property.GetCustomAttribute<RangeAttribute>() is null ? "not accepted" : "out of range")}";
            return $"{Variable(section, property.Name)}: {fault}; expected {Expected(property)}.";
        }

        // The classes' own messages: settings written Section:Key become the variable, and the expected form is added
        // when the message names one setting and does not say it already.
        var line = SettingPath().Replace(message, m => m.Value.Replace(":", "__", StringComparison.Ordinal));
        var named = section is null ? null : Regex.Match(line, $@"\b{Regex.Escape(section)}__(\w+)");
        if (named is { Success: true } && optionsType.GetProperty(named.Groups[1].Value) is { } target && target.PropertyType != typeof(string) &&
            !line.Contains("expected", StringComparison.OrdinalIgnoreCase))
        {
            line = $"{line.TrimEnd('.')}; expected {Expected(target)}.";
        }

        return line;
    }

    /// <summary>What a value of <paramref name="property"/> looks like, with its unit and its range.</summary>
    internal static string Expected(PropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var range = property.GetCustomAttribute<RangeAttribute>();
        var unit = Unit(property.Name);
        if (type == typeof(TimeSpan))
        {
            var bounds = range is null ? "" : $" from {range.Minimum} to {range.Maximum}";
            return $"a duration as [d.]hh:mm:ss[.fff]{bounds} (00:00:30 is 30 seconds, 1.00:00:00 one day)";
        }

        if (type == typeof(int) || type == typeof(long) || type == typeof(short))
        {
            var max = range?.Maximum is IConvertible m && m.ToDouble(CultureInfo.InvariantCulture) >= int.MaxValue ? null : range?.Maximum;
            var bounds = range is null ? "" : max is null ? $" of at least {range.Minimum}" : $" from {range.Minimum} to {max}";
            return $"a whole number{(unit is null ? "" : " of " + unit)}{bounds}";
        }

        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal))
        {
            return $"a number{(unit is null ? "" : " of " + unit)} (a dot for decimals){(range is null ? "" : $" from {range.Minimum} to {range.Maximum}")}";
        }

        if (type == typeof(bool))
        {
            return "true or false";
        }

        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type));
        }

        if (property.GetCustomAttribute<RegularExpressionAttribute>() is { } pattern)
        {
            return $"text matching {pattern.Pattern}";
        }

        if (property.GetCustomAttribute<MinLengthAttribute>() is { } minimum)
        {
            return $"a text of at least {minimum.Length} characters";
        }

        return property.GetCustomAttribute<RequiredAttribute>() is null ? "a text value" : "a non-empty text value";
    }

    private static string? Unit(string name) =>
        name.EndsWith("Seconds", StringComparison.Ordinal) ? "seconds"
        : name.EndsWith("Milliseconds", StringComparison.Ordinal) ? "milliseconds"
        : name.EndsWith("Bytes", StringComparison.Ordinal) || name.EndsWith("SizeLimit", StringComparison.Ordinal) ? "bytes"
        : name.EndsWith("PerMinute", StringComparison.Ordinal) ? "requests per minute"
        : name.EndsWith("Attempts", StringComparison.Ordinal) ? "attempts"
        : name.EndsWith("Parallelism", StringComparison.Ordinal) || name.EndsWith("Node", StringComparison.Ordinal) ? "workers"
        : name.EndsWith("BatchSize", StringComparison.Ordinal) ? "rows per batch"
        : null;

    private static bool Converts(string value, Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string) || value.Length == 0 && Nullable.GetUnderlyingType(type) is not null)
        {
            return true;
        }

        var converter = TypeDescriptor.GetConverter(target);
        if (!converter.CanConvertFrom(typeof(string)))
        {
            // Objects bound from sub-keys (JSON serializer options and the like): not a value to check here.
            return true;
        }

        try
        {
            converter.ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            return false;
        }
    }

    /// <summary>Each options class the services bind or validate, with its configuration section.</summary>
    private static IEnumerable<(Type Type, string Section)> OptionsTypes(IServiceCollection services) =>
        services.Select(d => d.ServiceType)
            .Where(t => t.IsGenericType && (t.GetGenericTypeDefinition() == typeof(IConfigureOptions<>) || t.GetGenericTypeDefinition() == typeof(IValidateOptions<>)
                                            || t.GetGenericTypeDefinition() == typeof(IOptionsChangeTokenSource<>)))
            .Select(t => t.GetGenericArguments()[0])
            .Distinct()
            .Select(t => (Type: t, Section: SectionOf(t)))
            .Where(t => t.Section is not null && t.Type.Assembly.GetName().Name!.StartsWith("ContentPlanning", StringComparison.Ordinal))
            .Select(t => (t.Type, t.Section!));

    private static string? SectionOf(Type type) =>
        (type.GetField("Section", BindingFlags.Public | BindingFlags.Static) ?? type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static))
        ?.GetRawConstantValue() as string;

    /// <summary>A value the configuration binder could not convert, read outside the options checks (e.g. while registering).</summary>
    private static string Unconvertible(string path, string value)
    {
        var separator = path.LastIndexOf(':');
        var (section, key) = separator < 0 ? ("", path) : (path[..separator], path[(separator + 1)..]);
        var property = BoundWhileRegistering(section).Select(t => t.GetProperty(key)).FirstOrDefault(p => p is not null);
        var variable = path.Replace(":", "__", StringComparison.Ordinal);
        return property is null
            ? $"{variable}: {Shown(key, value)} does not convert to the expected type."
            : $"{variable}: {Shown(key, value)} is not {Expected(property)}.";
    }

    /// <summary>
    /// The classes a section is bound onto while the services are registered, where a value that does not convert fails
    /// before <see cref="ValidateSettings"/> checks it. The cache's entry settings (<c>Cache__Duration</c>, ...) keep
    /// FusionCache's own names and are bound onto its entry options.
    /// </summary>
    private static Type[] BoundWhileRegistering(string section) => section switch
    {
        CacheSettings.SectionName => [typeof(CacheSettings), typeof(FusionCacheEntryOptions)],
        DatabaseOptions.Section => [typeof(DatabaseOptions)],
        ShutdownOptions.Section => [typeof(ShutdownOptions)],
        CalendarJobsOptions.Section => [typeof(CalendarJobsOptions)],
        AuthOptions.Section => [typeof(AuthOptions)],
        _ => [],
    };

    private static string PostgresAddress(IConfiguration configuration)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(configuration.GetConnectionString("Postgres"));
            return $"{builder.Host}:{builder.Port}";
        }
        catch (ArgumentException)
        {
            return "the configured address";
        }
    }

    /// <summary>The value as the message shows it: a secret only by its length.</summary>
    private static string Shown(string name, string value) =>
        name.EndsWith("Key", StringComparison.Ordinal) || name.EndsWith("Secret", StringComparison.Ordinal) || name.Contains("Password", StringComparison.Ordinal)
            ? $"a value of {value.Length} characters"
            : value.Length > 80 ? $"'{value[..80]}...'" : $"'{value}'";

    [GeneratedRegex("^Failed to convert configuration value '(?<value>.*)' at '(?<path>[^']+)' to type")]
    private static partial Regex ConversionFailure();

    [GeneratedRegex("^DataAnnotation validation failed for '[^']+' members: '(?<member>[^',]+)[^']*' with the error: '(?<error>.*)'\\.?$")]
    private static partial Regex DataAnnotationFailure();

    // Section:Key (or deeper) as written in messages; not a URL's scheme or a time of day.
    [GeneratedRegex(@"\b[A-Z][A-Za-z]+(?::[A-Z][A-Za-z]+)+\b")]
    private static partial Regex SettingPath();
}

/// <summary>One or more settings that stop the service from starting, each described on one line.</summary>
public sealed class SettingsException(IReadOnlyList<string> problems) : Exception(string.Join(Environment.NewLine, problems))
{
    public IReadOnlyList<string> Problems { get; } = problems;
}
