using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;

namespace ContentPlanning.PipelineBenchmarks;

// Not top-level statements: their Program class would hide the API's Program that WebApplicationFactory needs.
public static class BenchmarkMain
{
    public static int Main(string[] args)
    {
        if (args.Contains("--allocations"))
        {
            return AllocationProfile.RunAsync(requests: 20_000).GetAwaiter().GetResult();
        }

        // In-process: no generated project to build (which would inherit this repository's analyzer settings).
        var config = DefaultConfig.Instance
            .AddJob(Job.ShortRun.WithToolchain(InProcessNoEmitToolchain.Instance).WithIterationCount(15))
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableOptimizationsValidator);
        BenchmarkSwitcher.FromAssembly(typeof(PipelineBenchmarks).Assembly).Run(args, config);
        return 0;
    }
}
