using System;
using System.Threading;
using System.Threading.Tasks;
using System.Threading.Tasks.Sources;

namespace FastThreadPool;

/// <summary>
/// A job submitted with a <see cref="CancellationToken"/>: cancelling the token before the job starts cancels the job
/// (as <see cref="Pool.Cancel(long)"/> does); the running job can be handed the token. The registration on the token is
/// made before the job is queued and removed when the job ends, so a long-lived token does not keep ended jobs alive.
/// </summary>
internal abstract class TokenJob : PoolJob
{
    private readonly Pool _pool;
    private CancellationTokenRegistration _registration;

    private protected TokenJob(Pool pool, CancellationToken token, Action<PoolJob>? done)
        : base(done)
    {
        _pool = pool;
        Token = token;
    }

    public CancellationToken Token { get; }

    /// <summary>Registers the token before the job is queued, so that its registration is in place (and visible to
    /// the worker that ends the job) before anyone can end it.</summary>
    public void Arm()
    {
        if (Token.CanBeCanceled)
        {
            _registration = Token.UnsafeRegister(static s => ((TokenJob)s!).CancelByToken(), this);
        }
    }

    internal override void Refused() => _registration.Unregister();

    internal override void Ended(Pool pool)
    {
        // Unregister, not Dispose: Dispose would wait for a callback that is running right now (which may be the one
        // that called us).
        _registration.Unregister();
        OnEnded();
    }

    private protected virtual void OnEnded()
    {
    }

    private void CancelByToken() => _pool.CancelJobInternal(this);
}

/// <summary>A job with a token whose outcome goes to <see cref="Pool.Done"/> or <see cref="Pool.Failed"/> like any
/// other (<see cref="Pool.Submit(Action{CancellationToken}, CancellationToken)"/>).</summary>
internal sealed class CancellableJob<TResult>(Pool pool, Delegate body, CancellationToken token) : TokenJob(pool, token, null), IResultHolder<TResult>
{
    private TResult _value = default!;

    public TResult Value => _value;

    public override object? Argument => null;

    public override object? Result => typeof(TResult) != typeof(VoidResult) && Status == PoolJobStatus.Done ? _value : null;

    private protected override void Invoke()
    {
        if (body is Func<CancellationToken, TResult> f)
        {
            _value = f(Token);
        }
        else
        {
            ((Action<CancellationToken>)body)(Token);
        }
    }
}

/// <summary>
/// A job whose outcome goes to a <see cref="ValueTask"/> instead of the done and failed queues: the job object is the
/// task's source (no <see cref="Task"/> is allocated). It completes after the job has been counted, with the
/// result, the exception, or an <see cref="OperationCanceledException"/> when the job was cancelled before it started.
/// </summary>
internal abstract class AsyncJob : TokenJob
{
    private protected AsyncJob(Pool pool, CancellationToken token)
        : base(pool, token, null)
    {
    }

    internal override bool Reported => false;

    private protected override void OnEnded()
    {
        switch (State)
        {
            case DoneState:
                Complete(null);
                break;
            case FailedState:
                Complete(Exception!);
                break;
            default:
                Complete(new OperationCanceledException(Token.IsCancellationRequested ? Token : CancellationToken.None));
                break;
        }
    }

    private protected abstract void Complete(Exception? error);
}

/// <summary>An <see cref="AsyncJob"/> with its result type (<see cref="VoidResult"/> for jobs without one).</summary>
internal sealed class AsyncJob<TResult> : AsyncJob, IValueTaskSource<TResult>, IValueTaskSource, IResultHolder<TResult>
{
    private readonly Delegate _body;
    private ManualResetValueTaskSourceCore<TResult> _core;
    private TResult _value = default!;

    public AsyncJob(Pool pool, Delegate body, CancellationToken token)
        : base(pool, token)
    {
        _body = body;

        // By default the code after an await is not a job of this pool: it runs on the .NET thread pool (or the
        // awaiter's context), not inline on the worker that ended the job, where it would hold the worker and be
        // taken for one of the pool's jobs (WaitIdle from it would refuse to wait for itself).
        _core.RunContinuationsAsynchronously = !pool.SynchronousContinuations;
    }

    public TResult Value => _value;

    public short Version => _core.Version;

    public override object? Argument => null;

    public override object? Result => typeof(TResult) != typeof(VoidResult) && Status == PoolJobStatus.Done ? _value : null;

    public TResult GetResult(short token) => _core.GetResult(token);

    void IValueTaskSource.GetResult(short token) => _core.GetResult(token);

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    private protected override void Complete(Exception? error)
    {
        if (error is null)
        {
            _core.SetResult(_value);
        }
        else
        {
            _core.SetException(error);
        }
    }

    private protected override void Invoke()
    {
        switch (_body)
        {
            case Func<TResult> f:
                _value = f();
                break;
            case Func<CancellationToken, TResult> f:
                _value = f(Token);
                break;
            case Action a:
                a();
                break;
            default:
                ((Action<CancellationToken>)_body)(Token);
                break;
        }
    }
}
