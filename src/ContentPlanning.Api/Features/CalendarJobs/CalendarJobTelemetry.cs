using System.Diagnostics.Metrics;
using ContentPlanning.Api.Infrastructure.Telemetry;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>The jobs' metrics: final states, queue wait, run time, webhook attempts.</summary>
internal static class CalendarJobTelemetry
{
    private static readonly Counter<long> Jobs = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.calendar.jobs", description: "Calendar generation jobs that reached a final state, by status");

    private static readonly Histogram<double> QueueWait = ServiceTelemetry.CreateSecondsHistogram(
        "content_planning.calendar.job.queue_wait", "Time from a job's start request to its first run on a worker");

    private static readonly Histogram<double> RunTime = ServiceTelemetry.CreateSecondsHistogram(
        "content_planning.calendar.job.run_time", "Time of one run (attempt) of a job on a worker, by outcome");

    private static readonly Counter<long> WebhookAttempts = ServiceTelemetry.Meter.CreateCounter<long>(
        "content_planning.calendar.webhook.attempts", description: "Completion webhook delivery attempts, by outcome (delivered, retry, failed, refused)");

    public static void Finished(string status) => Jobs.Add(1, new KeyValuePair<string, object?>("status", status));

    public static void Waited(TimeSpan wait) => QueueWait.Record(Math.Max(0, wait.TotalSeconds));

    public static void Ran(TimeSpan time, string outcome) => RunTime.Record(time.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome));

    public static void Webhook(string outcome) => WebhookAttempts.Add(1, new KeyValuePair<string, object?>("outcome", outcome));
}
