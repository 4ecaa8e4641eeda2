using System.Globalization;
using System.Text;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// The opaque <c>cursor</c> of newest-first lists: the (timestamp, id) of the last row returned. Queries compare
/// <c>(ts, id) &lt; (@CursorAt, @CursorId)</c>; without a cursor, the maximum values make that comparison always true.
/// </summary>
public readonly record struct KeysetCursor(DateTimeOffset At, long Id)
{
    public static readonly KeysetCursor Start = new(DateTimeOffset.MaxValue, long.MaxValue);

    // Microsecond ticks match timestamptz precision exactly, so the keyset comparison never skips or repeats a row.
    public static string Encode(DateTimeOffset at, long id) => Convert.ToBase64String(Encoding.ASCII.GetBytes(
        FormattableString.Invariant($"{at.ToUniversalTime().UtcTicks}:{id}")));

    public static bool TryDecode(string? value, out KeysetCursor cursor)
    {
        cursor = Start;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        try
        {
            var parts = Encoding.ASCII.GetString(Convert.FromBase64String(value)).Split(':');
            if (parts.Length == 2 &&
                long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) &&
                ticks is > 0 and < 3155378975999999999 &&
                long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var id))
            {
                cursor = new KeysetCursor(new DateTimeOffset(ticks, TimeSpan.Zero), id);
                return true;
            }
        }
        catch (FormatException)
        {
        }

        return false;
    }

    /// <summary>Trims the one extra row a query fetched (LIMIT n + 1) and returns the page with the cursor of its last row.</summary>
    public static Page<T> ToPage<T>(List<T> rows, int limit, Func<T, (DateTimeOffset At, long Id)> key)
    {
        string? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveRange(limit, rows.Count - limit);
            var (at, id) = key(rows[^1]);
            next = Encode(at, id);
        }

        return new Page<T>(rows, next);
    }
}

/// <summary>One page of a list: <c>next_cursor</c> is passed back as <c>cursor</c> for the next page, null on the last.</summary>
public sealed record Page<T>(IReadOnlyList<T> Items, string? NextCursor);
