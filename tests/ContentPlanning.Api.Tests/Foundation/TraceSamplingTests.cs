using System.Diagnostics;
using ContentPlanning.Api.Infrastructure.Telemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Trace;

namespace ContentPlanning.Api.Tests.Foundation;

public sealed class TraceSamplingTests
{
    [Test]
    public void ProductionSamplesOnePercentOfRootsAndEveryRequestWhoseCallerSampled()
    {
        var sampler = TraceSampling.From(Configuration(), Environment(Environments.Production));

        Assert.That(sampler.Description, Is.EqualTo("ParentBased{TraceIdRatioBasedSampler{0.010000}}"));
        var sampledParent = new ActivityContext(ActivityTraceId.CreateRandom(), ActivitySpanId.CreateRandom(), ActivityTraceFlags.Recorded, isRemote: true);
        Assert.That(Decide(sampler, sampledParent), Is.EqualTo(SamplingDecision.RecordAndSample));
        // Of many random roots about 1 % are sampled (200 of 20 000 expected; the range is over 5 standard deviations wide).
        var sampled = Enumerable.Range(0, 20_000).Count(_ => Decide(sampler, default) == SamplingDecision.RecordAndSample);
        Assert.That(sampled, Is.InRange(100, 320));
    }

    [Test]
    public void DevelopmentTracesEveryRequest() =>
        Assert.That(TraceSampling.From(Configuration(), Environment(Environments.Development)), Is.InstanceOf<AlwaysOnSampler>());

    [TestCase("always_on", null, "AlwaysOnSampler")]
    [TestCase("always_off", null, "AlwaysOffSampler")]
    [TestCase("traceidratio", "0.25", "TraceIdRatioBasedSampler{0.250000}")]
    [TestCase("parentbased_always_on", null, "ParentBased{AlwaysOnSampler}")]
    [TestCase("parentbased_always_off", null, "ParentBased{AlwaysOffSampler}")]
    [TestCase("PARENTBASED_TRACEIDRATIO", "0.5", "ParentBased{TraceIdRatioBasedSampler{0.500000}}")]
    [TestCase("parentbased_traceidratio", null, "ParentBased{TraceIdRatioBasedSampler{1.000000}}")]
    public void TheStandardVariablesChooseTheSampler(string name, string? argument, string expected)
    {
        var sampler = TraceSampling.From(Configuration(("OTEL_TRACES_SAMPLER", name), ("OTEL_TRACES_SAMPLER_ARG", argument)), Environment(Environments.Production));

        Assert.That(sampler.Description, Is.EqualTo(expected));
    }

    [TestCase("sometimes", null, "OTEL_TRACES_SAMPLER must be")]
    [TestCase("traceidratio", "1.5", "OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1")]
    [TestCase("parentbased_traceidratio", "ten percent", "OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1")]
    public void AnUnknownSamplerOrRatioStopsTheStart(string name, string? argument, string message)
    {
        var error = Assert.Throws<OptionsValidationException>(() =>
            TraceSampling.From(Configuration(("OTEL_TRACES_SAMPLER", name), ("OTEL_TRACES_SAMPLER_ARG", argument)), Environment(Environments.Production)));

        Assert.That(error!.Message, Does.Contain(message));
    }

    [Test]
    public void TheRecentSpansViewKeepsTheNewestSpansUpToItsCapacityFedByABatchProcessor()
    {
        using var spans = new RecentSpans(capacity: 3);
        using var source = new ActivitySource("recent-spans-test");
        using (var provider = Sdk.CreateTracerProviderBuilder().AddSource(source.Name).SetSampler(new AlwaysOnSampler())
                   .AddProcessor(spans.Processor).Build())
        {
            for (var i = 1; i <= 5; i++)
            {
                source.StartActivity("span-" + i)!.Dispose();
            }

            // Read while the provider still runs: reading flushes what the batch processor still holds.
            Assert.That(spans.Snapshot().Select(s => s.Name), Is.EqualTo(new[] { "span-3", "span-4", "span-5" }));
            spans.Clear();
            Assert.That(spans.Snapshot(), Is.Empty);
        }
    }

    private static SamplingDecision Decide(Sampler sampler, ActivityContext parent) =>
        sampler.ShouldSample(new SamplingParameters(parent, ActivityTraceId.CreateRandom(), "GET /x", ActivityKind.Server)).Decision;

    private static IConfiguration Configuration(params (string Key, string? Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key, v.Value))).Build();

    private static TestEnvironmentName Environment(string name) => new(name);

    private sealed class TestEnvironmentName(string name) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = name;

        public string ApplicationName { get; set; } = "test";

        public string ContentRootPath { get; set; } = AppContext.BaseDirectory;

        public Microsoft.Extensions.FileProviders.IFileProvider ContentRootFileProvider { get; set; } = null!;
    }
}
