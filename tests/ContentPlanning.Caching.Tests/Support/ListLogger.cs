using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ContentPlanning.Caching.Tests.Support;

internal sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>Keeps every log record so tests can assert on what was logged, and how often.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<LogRecord> Records { get; } = new();

    public ILogger CreateLogger(string categoryName) => new ListLogger(categoryName, Records);

    public int Count(LogLevel level, string contains) =>
        Records.Count(r => r.Level == level && r.Message.Contains(contains, StringComparison.Ordinal));

    public void Dispose() { }

    private sealed class ListLogger(string category, ConcurrentQueue<LogRecord> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
