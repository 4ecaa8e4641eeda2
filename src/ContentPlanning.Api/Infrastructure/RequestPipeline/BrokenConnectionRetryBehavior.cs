using ContentPlanning.Api.Infrastructure.Database;
using MediatR;
using Npgsql;

namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

/// <summary>
/// Runs a request once more, on a new connection, when it failed on a broken database connection having committed
/// nothing (<see cref="BrokenConnection.LeftNothingCommitted"/>): queries on any broken connection, commands only when the
/// server ended the session before answering or the connection never opened. Not inside an ambient transaction: its owner
/// decides.
/// </summary>
internal sealed class BrokenConnectionRetryBehavior<TRequest, TResponse>(NpgsqlDataSource dataSource, ILogger<BrokenConnectionRetryBehavior<TRequest, TResponse>> logger)
    : IPipelineBehavior<TRequest, TResponse>
{
    // The slices name reads Query and writes Command.
    private static readonly bool ReadOnly = typeof(TRequest).Name == "Query";

    private static readonly string Name = typeof(TRequest).FullName ?? typeof(TRequest).Name;

    public Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next) =>
        BrokenConnection.RetryOnceAsync(dataSource, ReadOnly, next, static next => next(), logger, Name, cancellationToken);
}
