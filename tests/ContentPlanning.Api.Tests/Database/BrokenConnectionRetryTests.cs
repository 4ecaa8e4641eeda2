using System.Net.Sockets;
using ContentPlanning.Api.Infrastructure.Database;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using MediatR;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace ContentPlanning.Api.Tests.Database;

/// <summary>
/// The retry every MediatR request passes through: a request that succeeds at once costs it nothing, and a request that
/// fails on a broken connection (however it fails: a faulted task, later, or a throw before any task) runs once more.
/// </summary>
public sealed class BrokenConnectionRetryTests
{
    private sealed record Query;

    private static NpgsqlException Refused() => new("connection refused", new SocketException((int)SocketError.ConnectionRefused));

    [Test]
    public void ARequestThatSucceedsAtOnceAllocatesNothingInTheRetryBehavior()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Username=app");
        var behavior = new BrokenConnectionRetryBehavior<Query, string>(dataSource, NullLogger<BrokenConnectionRetryBehavior<Query, string>>.Instance);
        var query = new Query();
        var answer = Task.FromResult("answer");
        RequestHandlerDelegate<string> next = () => answer;
        for (var i = 0; i < 100; i++)
        {
            _ = behavior.Handle(query, CancellationToken.None, next);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        Task<string>? result = null;
        for (var i = 0; i < 1000; i++)
        {
            result = behavior.Handle(query, CancellationToken.None, next);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.SameAs(answer), "the handler's own task is passed on");
            Assert.That(allocated, Is.Zero, "bytes allocated by 1000 requests that succeeded at once");
        });
    }

    private static IEnumerable<TestCaseData> FirstFailures()
    {
        yield return new TestCaseData(new Func<Task<string>>(() => Task.FromException<string>(Refused()))).SetName("a faulted task");
        yield return new TestCaseData(new Func<Task<string>>(async () =>
        {
            await Task.Yield();
            throw Refused();
        })).SetName("a task that fails later");
        yield return new TestCaseData(new Func<Task<string>>(() => throw Refused())).SetName("a throw before any task");
    }

    [TestCaseSource(nameof(FirstFailures))]
    public async Task AReadThatFailsOnABrokenConnectionRunsOnceMore(Func<Task<string>> firstTry)
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Username=app");
        var runs = 0;
        var answer = await BrokenConnection.RetryOnceAsync(dataSource, readOnly: true, firstTry, tryFirst => ++runs == 1 ? tryFirst() : Task.FromResult("second"),
            NullLogger.Instance, "test", CancellationToken.None);

        Assert.That((answer, runs), Is.EqualTo(("second", 2)));
    }

    [Test]
    public void AFailureThatMayHaveCommittedIsNotRunAgain()
    {
        using var dataSource = NpgsqlDataSource.Create("Host=127.0.0.1;Username=app");
        var runs = 0;
        var failure = new NpgsqlException("reading the answer", new EndOfStreamException());

        Assert.ThrowsAsync<NpgsqlException>(() => BrokenConnection.RetryOnceAsync(dataSource, readOnly: false, failure, f =>
        {
            runs++;
            return Task.FromException<string>(f);
        }, NullLogger.Instance, "test", CancellationToken.None));
        Assert.That(runs, Is.EqualTo(1), "a write whose connection broke mid-answer is in doubt: not run again");
    }
}
