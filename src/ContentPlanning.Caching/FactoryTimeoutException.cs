namespace ContentPlanning.Caching;

/// <summary>Thrown when a factory exceeds its hard timeout and no stale value can be served instead.</summary>
public sealed class FactoryTimeoutException : TimeoutException
{
    public FactoryTimeoutException() : base("The cache factory timed out.") { }

    public FactoryTimeoutException(string message) : base(message) { }

    public FactoryTimeoutException(string message, Exception innerException) : base(message, innerException) { }
}
