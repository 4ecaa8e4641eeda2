using System.Text;
using System.Text.RegularExpressions;

namespace ContentPlanning.Api.Tests.Readme;

/// <summary>
/// The shell examples of README.md and docs/*.md, in reading order, as one bash script. The convention (README
/// "Examples are tests"): a fenced block marked <c>sh</c>, <c>bash</c> or <c>shell</c> runs when it calls <c>curl</c> or
/// its first line is <c># example</c>, unless its info string says <c>no-run</c>. Every curl answer must be a success
/// unless its command ends with <c># NNN</c> (or <c># NNN|MMM</c>): the status README shows; a command ending with a
/// JSON string comment (<c># "memory"</c>) must print exactly that. The local addresses of <c>scripts/run.sh</c>
/// (127.0.0.1:5080, PostgreSQL -p 55432, Redis -p 56379) are replaced by those of the instance under test.
/// </summary>
internal static partial class ReadmeExamples
{
    public sealed record Block(string Where, string Text);

    public static IEnumerable<string> Pages(string root) =>
        new[] { Path.Combine(root, "README.md") }
            .Concat(Directory.Exists(Path.Combine(root, "docs")) ? Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal) : []);

    public static List<Block> Blocks(string root)
    {
        var blocks = new List<Block>();
        foreach (var page in Pages(root))
        {
            var lines = File.ReadAllLines(page);
            for (var i = 0; i < lines.Length; i++)
            {
                var fence = Fence().Match(lines[i]);
                if (!fence.Success)
                {
                    continue;
                }

                var info = fence.Groups["info"].Value.Trim();
                var start = i + 1;
                var end = start;
                while (end < lines.Length && !lines[end].StartsWith("```", StringComparison.Ordinal))
                {
                    end++;
                }

                var body = lines[start..end];
                var language = info.Split(' ', 2)[0];
                if (language is "sh" or "bash" or "shell" && !info.Contains("no-run", StringComparison.Ordinal) &&
                    (body.Any(l => CurlCall().IsMatch(l)) || body.FirstOrDefault()?.StartsWith("# example", StringComparison.Ordinal) == true))
                {
                    blocks.Add(new Block($"{Path.GetRelativePath(root, page)}:{start}", string.Join('\n', body)));
                }

                i = end;
            }
        }

        return blocks;
    }

    /// <summary>A block as bash: each command announced, its expected status set around it, its shown output compared.</summary>
    public static string Script(Block block, IReadOnlyDictionary<string, string> addresses)
    {
        var text = addresses.Aggregate(block.Text, (t, a) => t.Replace(a.Key, a.Value, StringComparison.Ordinal));
        var script = new StringBuilder($"__block '{block.Where}'\n");
        foreach (var command in Commands(text.Split('\n')))
        {
            var last = command[^1];
            var status = StatusComment().Match(last);
            var shown = ShownComment().Match(last);
            var joined = string.Join('\n', command);
            if (status.Success && OutsideQuotes(last, status.Index))
            {
                script.Append($"__expect '{status.Groups["codes"].Value.Replace(" ", "", StringComparison.Ordinal).Replace("or", "|", StringComparison.Ordinal)}'\n{joined}\n__expect ''\n");
            }
            else if (shown.Success && OutsideQuotes(last, shown.Index) && command.Count == 1 && !Assignment().IsMatch(last))
            {
                var code = last[..shown.Index].TrimEnd();
                var expected = shown.Groups["json"].Value.Replace("'", "'\\''", StringComparison.Ordinal);
                script.Append($"__out=$({code})\nprintf '%s\\n' \"$__out\"\n__same \"$__out\" '{expected}'\n");
            }
            else
            {
                script.Append(joined).Append('\n');
            }
        }

        return script.ToString();
    }

    /// <summary>Lines grouped into commands: a line ending in a backslash or inside an open single-quoted string continues.</summary>
    private static IEnumerable<List<string>> Commands(IEnumerable<string> lines)
    {
        var current = new List<string>();
        var open = false;
        foreach (var line in lines)
        {
            current.Add(line);
            open ^= SingleQuotes(line) % 2 == 1;
            if (!open && !line.TrimEnd().EndsWith('\\'))
            {
                yield return current;
                current = [];
            }
        }

        if (current.Count > 0)
        {
            yield return current;
        }
    }

    // Single quotes that open or close a string: not inside double quotes, not escaped.
    private static int SingleQuotes(string line)
    {
        var count = 0;
        var inDouble = false;
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '"' && (i == 0 || line[i - 1] != '\\'))
            {
                inDouble = !inDouble;
            }
            else if (line[i] == '\'' && !inDouble)
            {
                count++;
            }
            else if (line[i] == '#' && !inDouble && count % 2 == 0 && (i == 0 || char.IsWhiteSpace(line[i - 1])))
            {
                break;
            }
        }

        return count;
    }

    private static bool OutsideQuotes(string line, int index) =>
        line[..index].Count(c => c == '\'') % 2 == 0 && line[..index].Count(c => c == '"') % 2 == 0;

    [GeneratedRegex("^```(?<info>.*)$")]
    private static partial Regex Fence();

    [GeneratedRegex(@"(^|[\s(|;$])curl\s")]
    private static partial Regex CurlCall();

    [GeneratedRegex(@"\s#\s*(?<codes>[1-5]\d\d(?:\s*(?:\||or)\s*[1-5]\d\d)*)(?![\w.])")]
    private static partial Regex StatusComment();

    [GeneratedRegex(@"\s#\s*(?<json>""[^""]*"")\s*$")]
    private static partial Regex ShownComment();

    [GeneratedRegex(@"^\s*[A-Za-z_][A-Za-z0-9_]*=")]
    private static partial Regex Assignment();
}
