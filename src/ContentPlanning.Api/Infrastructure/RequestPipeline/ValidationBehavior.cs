using FluentValidation;
using MediatR;

namespace ContentPlanning.Api.Infrastructure.RequestPipeline;

/// <summary>
/// The one place requests are validated: the storable-input rules, then every FluentValidation validator of the request,
/// run before its handler.
/// </summary>
internal sealed class ValidationBehavior<TRequest, TResponse>(IEnumerable<IValidator<TRequest>> validators)
    : IPipelineBehavior<TRequest, TResponse>
{
    private readonly IValidator<TRequest>[] _validators = validators.ToArray();

    public async Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        // What the database can store comes first, for every request (see StorableInput); then the request's own validators.
        var failures = StorableInput.Check(request!);
        if (_validators.Length == 0 && failures.Count == 0)
        {
            return await next();
        }

        var context = new ValidationContext<TRequest>(request);
        foreach (var validator in _validators)
        {
            var result = await validator.ValidateAsync(context, cancellationToken);
            failures.AddRange(result.Errors);
        }

        if (failures.Count > 0)
        {
            throw new ValidationException(failures);
        }

        return await next();
    }
}
