using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ContentPlanning.Api.Tests.Infrastructure;

namespace ContentPlanning.Api.Tests.Readme;

/// <summary>
/// README's examples are tests: a fresh instance started the README way (scripts/run.sh, its own PostgreSQL, Redis and
/// data folder, demo data), Stoplight Prism (npm) as a validating proxy in front of it, and every example of README.md
/// and docs/*.md run in order as one bash session (<see cref="ReadmeExamples"/>). The API routes go through the proxy
/// (the progress stream, the dashboard and the metrics go direct): a status other than the one README shows, an output
/// other than the one it shows, or any request or answer off the OpenAPI document fails the test.
/// </summary>
public sealed partial class ReadmeExamplesTests
{
    [Test]
    public async Task EveryReadmeExampleRunsAgainstAFreshInstanceThroughAValidatingProxy()
    {
        var root = NpmTools.Root;
        var blocks = ReadmeExamples.Blocks(root);
        Assert.That(blocks, Has.Count.GreaterThan(5), "README's examples were found");
        var bin = await NpmTools.BinAsync();

        var data = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(TestEnvironment.PrometheusData))!, "readme");
        if (Directory.Exists(data))
        {
            await StopServersAsync(root, data, 0, 0);
            Directory.Delete(data, recursive: true);
        }

        int apiPort = TestEnvironment.FreePort(), pgPort = TestEnvironment.FreePort(), redisPort = TestEnvironment.FreePort(), proxyPort = TestEnvironment.FreePort();
        var run = new Dictionary<string, string>
        {
            ["RUN_PG_PORT"] = pgPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RUN_REDIS_PORT"] = redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["API_URL"] = $"http://127.0.0.1:{apiPort}",
            ["RUN_DATA"] = data,
            // The suite built the binaries already.
            ["RUN_BUILD"] = "0",
        };
        var output = new StringBuilder();
        using var api = Start("bash", [Path.Combine(root, "scripts/run.sh")], root, run, output);
        Process? proxy = null;
        var proxyOutput = new StringBuilder();
        var work = Directory.CreateTempSubdirectory("cp-readme-").FullName;
        try
        {
            await WaitUntilAsync(async () =>
            {
                Assert.That(api.HasExited, Is.False, $"scripts/run.sh stopped:\n{output}");
                using var http = new HttpClient();
                try
                {
                    return (await http.GetAsync($"http://127.0.0.1:{apiPort}/health/ready")).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromMinutes(4), () => $"the instance never became ready:\n{output}");

            proxy = Start(Path.Combine(bin, "prism"),
                ["proxy", Path.Combine(root, "openapi/content-planning.v1.json"), $"http://127.0.0.1:{apiPort}", "--host", "127.0.0.1", "--port", proxyPort.ToString(System.Globalization.CultureInfo.InvariantCulture), "--errors"],
                root, new Dictionary<string, string>(), proxyOutput);
            await WaitUntilAsync(async () =>
            {
                Assert.That(proxy.HasExited, Is.False, $"Prism stopped:\n{proxyOutput}");
                using var http = new HttpClient();
                try
                {
                    await http.GetAsync($"http://127.0.0.1:{proxyPort}/health/live");
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromMinutes(2), () => $"Prism never listened:\n{proxyOutput}");

            // The examples run from a folder of their own that looks like the repository to them (files they write land there).
            foreach (var link in new[] { "src", "scripts", "openapi", "db" })
            {
                File.CreateSymbolicLink(Path.Combine(work, link), Path.Combine(root, link));
            }

            Directory.CreateDirectory(Path.Combine(work, ".local"));
            File.CreateSymbolicLink(Path.Combine(work, ".local", "run"), data);
            var calls = Path.Combine(work, "calls.log");
            var addresses = new Dictionary<string, string>
            {
                ["127.0.0.1:5080"] = $"127.0.0.1:{apiPort}",
                ["localhost:5080"] = $"127.0.0.1:{apiPort}",
                ["-p 55432"] = $"-p {pgPort}",
                ["-p 56379"] = $"-p {redisPort}",
            };
            var script = Prelude(calls, apiPort, proxyPort) + string.Concat(blocks.Select(b => ReadmeExamples.Script(b, addresses)));
            await File.WriteAllTextAsync(Path.Combine(work, "examples.sh"), script);

            var (exit, printed) = await NpmTools.RunAsync("bash", [Path.Combine(work, "examples.sh")], work, TimeSpan.FromMinutes(10));

            // The start command again while its API runs: it says so and leaves everything alone (the same process serves on).
            var (again, againPrinted) = await NpmTools.RunAsync("bash", [Path.Combine(root, "scripts/run.sh")], root, TimeSpan.FromMinutes(2), run);
            Assert.Multiple(() =>
            {
                Assert.That(again, Is.Zero, againPrinted);
                Assert.That(againPrinted, Does.Contain("already answers"), againPrinted);
                Assert.That(api.HasExited, Is.False, $"the first scripts/run.sh stopped:\n{output}");
            });

            // README's tour: PostgreSQL and Redis stopped under the running API, then the start command again starts them
            // (the API is still left alone) and the API is ready again.
            await StopServersAsync(root, data, pgPort, redisPort);
            var (mend, mendPrinted) = await NpmTools.RunAsync("bash", [Path.Combine(root, "scripts/run.sh")], root, TimeSpan.FromMinutes(2), run);
            Assert.Multiple(() =>
            {
                Assert.That(mend, Is.Zero, mendPrinted);
                Assert.That(mendPrinted, Does.Contain("already answers"), mendPrinted);
                Assert.That(api.HasExited, Is.False, $"the first scripts/run.sh stopped:\n{output}");
            });
            await WaitUntilAsync(async () =>
            {
                using var http = new HttpClient();
                using var ready = await http.GetAsync($"http://127.0.0.1:{apiPort}/health/ready");
                return ready.IsSuccessStatusCode;
            }, TimeSpan.FromMinutes(2), () => $"the API did not become ready after its servers were started again:\n{mendPrinted}\n{Tail(output.ToString())}");

            var violations = proxyOutput.ToString().Split('\n').Where(l => l.Contains("violation", StringComparison.OrdinalIgnoreCase)).ToList();
            var (exercised, documented) = Operations(root, File.Exists(calls) ? await File.ReadAllLinesAsync(calls) : [], proxyPort);
            TestContext.Progress.WriteLine($"README examples: {blocks.Count} blocks, {exercised.Count} of {documented.Count} operations through the validating proxy, {violations.Count} violations");
            TestContext.Progress.WriteLine($"Operations no README example reaches through the proxy: {string.Join(", ", documented.Except(exercised).Order(StringComparer.Ordinal))}");
            Assert.Multiple(() =>
            {
                Assert.That(exit, Is.EqualTo(0), $"a README example failed:\n{Tail(printed)}\n-- proxy --\n{Tail(proxyOutput.ToString())}");
                Assert.That(violations, Is.Empty, $"Prism found answers or requests off the document:\n{Tail(proxyOutput.ToString())}");
                // Every operation has a README example (the event stream is read directly: a proxy cannot validate a stream).
                Assert.That(documented.Except(exercised).Where(o => !o.EndsWith("/stream", StringComparison.Ordinal)), Is.Empty,
                    "operations no README example calls through the proxy");
            });
        }
        finally
        {
            if (proxy is not null)
            {
                Stop(proxy);
            }

            Stop(api);
            await StopServersAsync(root, data, pgPort, redisPort);
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>curl checks each answer's status and routes the API's calls through the proxy; every call is logged.</summary>
    private static string Prelude(string calls, int apiPort, int proxyPort) => $$"""
        set -euo pipefail
        export EXAMPLE_CALLS='{{calls}}'
        : > "$EXAMPLE_CALLS"
        __where=start
        __block() { __where=$1; echo "== $1"; }
        __expect() { export EXAMPLE_EXPECT="$1"; }
        __same() { [ "$1" = "$2" ] || { echo "README example at $__where printed $1 where README shows $2" >&2; return 1; }; }
        trap 'echo "README example at $__where failed: $BASH_COMMAND" >&2' ERR
        curl() {
          local args=() arg log rc line status
          for arg in "$@"; do
            if [[ "$arg" =~ 127\.0\.0\.1:{{apiPort}}/(api/content-planning|health) && ! "$arg" =~ /stream ]]; then
              arg=${arg/127.0.0.1:{{apiPort}}/127.0.0.1:{{proxyPort}}}
            fi
            args+=("$arg")
          done
          log=$(mktemp)
          rc=0
          command curl --no-progress-meter -w '%{stderr}\n__STATUS__ %{http_code} %{method} %{url_effective}\n' "${args[@]}" 2>"$log" || rc=$?
          grep -v '^__STATUS__' "$log" | grep -v '^$' >&2 || true
          line=$(grep '^__STATUS__' "$log" | tail -n 1 || true)
          rm -f "$log"
          status=$(echo "$line" | cut -d' ' -f2)
          echo "$line ${EXAMPLE_EXPECT:-2xx} $__where" >> "$EXAMPLE_CALLS"
          [ "$rc" -eq 0 ] || { echo "README example at $__where: curl failed ($rc)" >&2; return "$rc"; }
          if [ -z "${EXAMPLE_EXPECT:-}" ]; then
            [[ "$status" == 2* ]] || { echo "README example at $__where: ${line#__STATUS__ } answered $status; README shows a success" >&2; return 1; }
          else
            [[ "|$EXAMPLE_EXPECT|" == *"|$status|"* ]] || { echo "README example at $__where: ${line#__STATUS__ } answered $status; README shows $EXAMPLE_EXPECT" >&2; return 1; }
          fi
        }

        """;

    /// <summary>The document's operations the calls through the proxy reached (method and path template).</summary>
    private static (HashSet<string> Exercised, HashSet<string> Documented) Operations(string root, IEnumerable<string> calls, int proxyPort)
    {
        var document = JsonNode.Parse(File.ReadAllText(Path.Combine(root, "openapi/content-planning.v1.json")))!;
        var templates = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Id: $"{o.Key.ToUpperInvariant()} {p.Key}",
                Method: o.Key.ToUpperInvariant(), Pattern: new Regex("^" + Regex.Replace(Regex.Escape(p.Key), @"\\\{[^}]+}", "[^/]+") + "$"))))
            .ToList();
        var exercised = new HashSet<string>();
        foreach (var call in calls)
        {
            var parts = call.Split(' ');
            if (parts.Length < 4 || !Uri.TryCreate(parts[3], UriKind.Absolute, out var url) || url.Port != proxyPort)
            {
                continue;
            }

            var match = templates.Where(t => t.Method == parts[2] && t.Pattern.IsMatch(url.AbsolutePath))
                .OrderBy(t => t.Id.Count(c => c == '{'))
                .FirstOrDefault();
            if (match.Id is not null)
            {
                exercised.Add(match.Id);
            }
        }

        return (exercised, templates.Select(t => t.Id).ToHashSet());
    }

    private static Process Start(string file, IEnumerable<string> args, string directory, IReadOnlyDictionary<string, string> environment, StringBuilder output)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }

    private static void Stop(Process process)
    {
        if (!process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
    }

    private static async Task StopServersAsync(string root, string data, int pgPort, int redisPort) =>
        await NpmTools.RunAsync("bash", [Path.Combine(root, "scripts/run.sh"), "stop"], root, TimeSpan.FromMinutes(1), new Dictionary<string, string>
        {
            ["RUN_DATA"] = data,
            ["RUN_PG_PORT"] = pgPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RUN_REDIS_PORT"] = redisPort.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    private static async Task WaitUntilAsync(Func<Task<bool>> done, TimeSpan limit, Func<string> failure)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await done())
        {
            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), failure);
            await Task.Delay(500);
        }
    }

    private static string Tail(string text) => text.Length > 6000 ? "..." + text[^6000..] : text;
}
