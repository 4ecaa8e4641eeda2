using ContentPlanning.Api.Features.Strategies;
using ContentPlanning.Api.Infrastructure.RequestPipeline;
using FluentValidation;
using Microsoft.Extensions.DependencyInjection;

namespace ContentPlanning.Api.Tests.Foundation;

/// <summary>FluentValidation's scan and Carter together: every validator (all internal) is found, and exactly once.</summary>
public sealed class FeatureRegistrationTests
{
    [Test]
    public void EveryValidatorInTheApiIsRegisteredExactlyOnce()
    {
        var validatorTypes = typeof(FeatureRegistration).Assembly.GetTypes()
            .Where(t => t is { IsAbstract: false, IsGenericTypeDefinition: false } && typeof(IValidator).IsAssignableFrom(t))
            .ToList();
        Assert.That(validatorTypes, Is.Not.Empty);

        foreach (var validatorType in validatorTypes)
        {
            var validated = validatorType.GetInterfaces()
                .Single(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IValidator<>));
            // Carter would register each one a second time if it scanned too; ValidationBehavior would then validate twice.
            var registered = Testing.Factory.Services.GetServices(validated).ToList();
            Assert.That(registered.Select(v => v!.GetType()), Is.EqualTo(new[] { validatorType }), validated.ToString());
        }
    }

    [Test]
    public void AnInternalNestedValidatorIsResolvable()
    {
        var validator = Testing.Factory.Services.GetRequiredService<IValidator<CreateStrategy.Command>>();

        Assert.That(validator, Is.InstanceOf<CreateStrategy.Validator>());
    }
}
