using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.NoEmit;
using ContentPlanning.Benchmarks;

if (args.Contains("--redis-commands"))
{
    return await RedisCommandCount.RunAsync();
}

if (args.Contains("--backplane-delay"))
{
    return await BackplaneDelay.RunAsync(samples: 500);
}

// In-process: no generated project to build (which would inherit this repository's analyzer settings).
var config = DefaultConfig.Instance
    .AddJob(Job.ShortRun.WithToolchain(InProcessNoEmitToolchain.Instance))
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
BenchmarkSwitcher.FromAssembly(typeof(CacheBenchmarks).Assembly).Run(args, config);
return 0;
