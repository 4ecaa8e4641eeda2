using System.Transactions;
using Npgsql;

namespace ContentPlanning.Api.Features.CalendarJobs;

/// <summary>
/// The seam a calendar job watches a generation through (the jobs slice owns it; GenerateCalendar calls it when a job
/// sends <see cref="GenerateCalendar.GenerateCalendar.RunForJob"/>): told after every step (it may stop the run there by
/// throwing, and nothing is stored) and inside the transaction that stores the calendar, before it commits (what it
/// writes there commits or rolls back with the calendar).
/// </summary>
public interface IGenerationObserver
{
    Task StepCompletedAsync(IReadOnlyList<GenerateCalendar.GenerateCalendar.StepResult> steps, CancellationToken cancellationToken);

    Task StoringAsync(NpgsqlConnection connection, long calendarId, CancellationToken cancellationToken);
}

/// <summary>
/// The ambient transaction the calendar and the jobs' rows are written in, so Hangfire's PostgreSQL storage (which
/// enlists in it) enqueues work in the same commit: read committed, async flow on. Enlist the connection with
/// <c>connection.EnlistTransaction(Transaction.Current)</c>.
/// </summary>
public static class AmbientTransaction
{
    public static TransactionScope Begin() => new(TransactionScopeOption.Required,
        new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TimeSpan.FromMinutes(1) },
        TransactionScopeAsyncFlowOption.Enabled);
}
