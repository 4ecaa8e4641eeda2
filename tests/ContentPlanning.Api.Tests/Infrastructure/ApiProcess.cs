using System.Diagnostics;
using System.Text;

namespace ContentPlanning.Api.Tests.Infrastructure;

/// <summary>
/// The API as a real process (the Release build of src/ContentPlanning.Api) on a free loopback port, against the test
/// PostgreSQL and Redis: for the tests that kill a node (SIGKILL), which an in-process host cannot show.
/// </summary>
public sealed class ApiProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ApiProcess(Process process, string url, string nodeId)
    {
        _process = process;
        Url = url;
        NodeId = nodeId;
    }

    public string Url { get; }

    public string NodeId { get; }

    /// <summary>What the process printed (for a failing test's message).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The Release build of the API that the process tests run.</summary>
    public static string Dll
    {
        get
        {
            var dll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll"));
            Assert.That(File.Exists(dll), $"the API is built at {dll} (scripts/test.sh builds the solution in Release)");
            return dll;
        }
    }

    /// <summary>
    /// Runs the API with the test settings changed by <paramref name="settings"/> (a null value removes one) and waits
    /// (bounded) for it to exit: for the start-up checks. Returns the exit code and everything it printed.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunUntilExitAsync(IReadOnlyDictionary<string, string?> settings,
        string[]? args = null, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo("dotnet", [Dll, .. args ?? []])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(Dll)!,
        };
        foreach (var (key, value) in Settings($"http://127.0.0.1:{TestEnvironment.FreePort()}", "node-exit"))
        {
            start.Environment[key] = value;
        }

        foreach (var (key, value) in settings)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"the API did not exit: {await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    private static Dictionary<string, string> Settings(string url, string nodeId) => new()
    {
        ["ASPNETCORE_URLS"] = url,
        ["ASPNETCORE_ENVIRONMENT"] = "Testing",
        ["ConnectionStrings__Postgres"] = TestEnvironment.PostgresConnectionString,
        ["ConnectionStrings__Redis"] = TestEnvironment.RedisConnectionString,
        ["Cache__NodeId"] = nodeId,
        ["Auth__Mode"] = "none",
        ["Admin__ApiKey"] = ApiFactory.AdminKey,
        ["RateLimiting__CalendarGenerationPerMinute"] = "1000000",
        ["Logging__LogLevel__Default"] = "Warning",
        ["OTEL_SDK_DISABLED"] = "true",
        // Only the tests about jobs run workers (they say so).
        ["CalendarJobs__WorkersPerNode"] = "0",
    };

    public static async Task<ApiProcess> StartAsync(string nodeId, IReadOnlyDictionary<string, string>? settings = null, int? port = null)
    {
        var dll = Dll;
        var url = $"http://127.0.0.1:{port ?? TestEnvironment.FreePort()}";
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        var environment = Settings(url, nodeId);
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start)!;
#pragma warning disable CA2000 // Returned to the caller once ready; disposed by the catch below when the start fails.
        var api = new ApiProcess(process, url, nodeId);
#pragma warning restore CA2000
        process.OutputDataReceived += (_, e) => api.Append(e.Data);
        process.ErrorDataReceived += (_, e) => api.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await WaitUntilReadyAsync(api, process);
            return api;
        }
        catch
        {
            // A node that did not start in time must not start later behind the test's back: it would be a cluster member
            // (listener, backplane, job polling) in the shared database and Redis for the rest of the suite.
            await api.DisposeAsync();
            throw;
        }
    }

    private static async Task WaitUntilReadyAsync(ApiProcess api, Process process)
    {
        using var client = new HttpClient { BaseAddress = new Uri(api.Url) };
        // Generous: a cold .NET start on a saturated 2-core machine has taken over a minute.
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (true)
        {
            Assert.That(process.HasExited, Is.False, $"the API process exited at start:\n{api.Output}");
            try
            {
                using var ready = await client.GetAsync("/health/ready");
                if (ready.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            Assert.That(DateTime.UtcNow, Is.LessThan(deadline), $"the API process never became ready:\n{api.Output}");
            await Task.Delay(200);
        }
    }

    /// <summary>Runs a command-line verb of the API (e.g. <c>migrate</c>) to its end; returns the exit code and what it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunVerbAsync(string[] args, IReadOnlyDictionary<string, string> settings)
    {
        var dll = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/ContentPlanning.Api/bin/Release/net10.0/ContentPlanning.Api.dll"));
        Assert.That(File.Exists(dll), $"the API is built at {dll} (scripts/test.sh builds the solution in Release)");
        var start = new ProcessStartInfo("dotnet", [dll, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        start.Environment["Auth__Mode"] = "none";
        start.Environment["OTEL_SDK_DISABLED"] = "true";
        start.Environment["CalendarJobs__WorkersPerNode"] = "0";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }

    public HttpClient CreateClient() => new() { BaseAddress = new Uri(Url) };

    public int Port => new Uri(Url).Port;

    public bool HasExited => _process.HasExited;

    /// <summary>SIGTERM, as an orchestrator stops a node: the node drains and exits by itself.</summary>
    public void Terminate()
    {
        using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.That(kill.ExitCode, Is.Zero, "kill -TERM failed");
    }

    public Task WaitForExitAsync(CancellationToken cancellationToken) => _process.WaitForExitAsync(cancellationToken);

    public int ExitCode => _process.ExitCode;

    /// <summary>SIGKILL: no shutdown, no cleanup, as when a machine dies.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
