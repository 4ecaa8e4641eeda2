using System.Text;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>One thing a server-sent event stream carried: an event (id, type, data), a comment, or a retry hint.</summary>
internal sealed record SseFrame(string? Id, string? Type, string? Data, string? Comment = null, int? Retry = null)
{
    public bool IsEvent => Data is not null;
}

/// <summary>Reads a text/event-stream as it arrives, comments and retry hints included (SseParser hides them).</summary>
internal static class SseReader
{
    public static async IAsyncEnumerable<SseFrame> ReadAsync(Stream stream, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        string? id = null, type = null;
        StringBuilder? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data is not null)
                {
                    yield return new SseFrame(id, type ?? "message", data.ToString());
                }

                (id, type, data) = (null, null, null);
                continue;
            }

            if (line.StartsWith(':'))
            {
                yield return new SseFrame(null, null, null, Comment: line[1..].Trim());
                continue;
            }

            var colon = line.IndexOf(':');
            var (field, value) = colon < 0 ? (line, "") : (line[..colon], line[(colon + 1)..].TrimStart(' '));
            switch (field)
            {
                case "id": id = value; break;
                case "event": type = value; break;
                case "data": data = data is null ? new StringBuilder(value) : data.Append('\n').Append(value); break;
                case "retry": yield return new SseFrame(null, null, null, Retry: int.Parse(value, System.Globalization.CultureInfo.InvariantCulture)); break;
            }
        }
    }
}
