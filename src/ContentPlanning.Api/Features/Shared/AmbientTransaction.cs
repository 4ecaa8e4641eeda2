using System.Transactions;

namespace ContentPlanning.Api.Features.Shared;

/// <summary>
/// The ambient transaction the slices write in when a library must join it (Hangfire's PostgreSQL storage enlists in
/// it): read committed, async flow on. Enlist the connection with <c>connection.EnlistTransaction(Transaction.Current)</c>.
/// </summary>
public static class AmbientTransaction
{
    public static TransactionScope Begin() => new(TransactionScopeOption.Required,
        new TransactionOptions { IsolationLevel = IsolationLevel.ReadCommitted, Timeout = TimeSpan.FromMinutes(1) },
        TransactionScopeAsyncFlowOption.Enabled);
}
