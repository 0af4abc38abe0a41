using System;

namespace FastThreadPool;

/// <summary>
/// The exception thrown when a job is submitted to a pool that is shutting down or has shut down.
/// A job whose submission throws this exception was not accepted: it never runs and is not counted.
/// </summary>
public sealed class PoolStoppedException : InvalidOperationException
{
    /// <summary>Creates the exception with the default message.</summary>
    public PoolStoppedException()
        : base("The pool has been shut down and accepts no more jobs.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message that describes the error.</param>
    public PoolStoppedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the exception that caused it.</summary>
    /// <param name="message">The message that describes the error.</param>
    /// <param name="innerException">The exception that caused this one.</param>
    public PoolStoppedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
