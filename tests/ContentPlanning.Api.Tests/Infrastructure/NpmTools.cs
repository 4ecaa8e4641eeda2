using System.Diagnostics;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>
/// The npm tools of the contract tests (Prism, openapi-typescript, openapi-fetch, TypeScript), installed by
/// scripts/npm-tools.sh into .local/npm (ignored). A machine where npm cannot install them fails these tests: never skipped.
/// </summary>
public static class NpmTools
{
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _folder;

    public static string Root => Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../.."));

    /// <summary>Installs the tools once per run (a no-op when scripts/npm-tools.sh finds them) and returns their bin folder.</summary>
    public static async Task<string> BinAsync()
    {
        await Gate.WaitAsync();
        try
        {
            if (_folder is null)
            {
                var (exit, output) = await RunAsync("bash", [Path.Combine(Root, "scripts/npm-tools.sh")], Root, TimeSpan.FromMinutes(10));
                Assert.That(exit, Is.EqualTo(0), $"scripts/npm-tools.sh could not install the npm tools:\n{output}");
                // The script prints its folder last on stdout; npm's own messages (stderr) follow it in the output read here.
                var prefix = output.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith('/') && Directory.Exists(l));
                Assert.That(prefix, Is.Not.Null, $"scripts/npm-tools.sh printed no folder:\n{output}");
                _folder = Path.Combine(prefix!, "node_modules", ".bin");
            }

            return _folder;
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Runs a command to its end (bounded), returning its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, string directory, TimeSpan limit,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file, args) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{file} {string.Join(' ', args)} did not finish within {limit}:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
