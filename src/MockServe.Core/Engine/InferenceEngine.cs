using MockServe.Core.CostModel;
using MockServe.Core.Profiles;
using MockServe.Core.Sessions;

namespace MockServe.Core.Engine;

/// <summary>
/// One model replica on one tensor-parallel GPU group: iteration-level continuous batching over a paged KV
/// cache in HBM, with sessions whose KV stays between turns, is swapped to host DDR or dropped under pressure.
/// Every step lasts what <see cref="GpuCostModel"/> says, on a <see cref="VirtualClock"/>: a step that starts at t
/// ends at t + cost, and every call takes effect at the clock's time.
/// </summary>
/// <remarks>
/// Single-threaded: call it from the thread that runs its clock. <see cref="EngineLoop"/> runs it in real time and
/// is the thread-safe front; simulations and tests drive the clock themselves.
/// </remarks>
public sealed partial class InferenceEngine : IRequestControl
{
    private readonly VirtualClock _clock;
    private readonly IEngineObserver _observer;
    private readonly ISchedulingPolicy _policy;
    private readonly IPreemptionPolicy _preemption;
    private readonly KvCacheManager _kv;
    private readonly bool _prefixCaching;
    private readonly SessionTable _sessions;
    private readonly Dictionary<string, Sequence> _requests = new(StringComparer.Ordinal);
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly LinkedList<Sequence> _swapped = new();
    private readonly List<Sequence> _running = [];
    private readonly StepPlan _plan = new();
    private readonly Action<double> _onStepEnd;
    private readonly Action<double> _onReady;
    private readonly Efficiency _efficiency;

    // Requests whose last token is out and whose response the host is finishing (Efficiency.FinishOverheadSeconds).
    private readonly Dictionary<Sequence, RequestResult> _ending = [];
    private bool _stepInFlight;

    public InferenceEngine(Deployment deployment, EngineOptions options, VirtualClock clock, IEngineObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        CostModel = new GpuCostModel(deployment);
        Options = options;
        _clock = clock ?? throw new ArgumentNullException(nameof(clock));
        _observer = observer ?? NullObserver.Instance;
        _policy = SchedulingPolicies.Create(options.Scheduler);
        _preemption = PreemptionPolicies.Create(options.Preemption);
        double blockBytes = CostModel.KvBytesPerStoredToken * options.BlockSize;
        _kv = new KvCacheManager(
            CostModel.KvCapacityBytes, CostModel.HostCapacityBytes, blockBytes, options.BlockSize,
            deployment.Compression.TokensKept, options.SwapEnabled, OnDropped);
        _sessions = new SessionTable(options.SessionTtlSeconds);
        // Prefix hashes cover tokens; with token compression a stored block holds other tokens than a hashed one.
        _prefixCaching = options.PrefixCaching && deployment.Compression.TokensKept == 1;
        Limits = new RequestLimits(deployment.Model.MaxContext, _kv, deployment.Compression.TokensKept, options.BlockSize);
        _onStepEnd = OnStepEnd;
        _onReady = _ => TryStartStep();
        _efficiency = deployment.Efficiency;
        Control = this;
    }

    public GpuCostModel CostModel { get; }

    public EngineOptions Options { get; }

    /// <summary>
    /// Whether requests' <see cref="InferenceRequest.PrefixHashes"/> are used: <see cref="EngineOptions.PrefixCaching"/>,
    /// unless token compression stores other tokens than the hashed ones.
    /// </summary>
    public bool PrefixCaching => _prefixCaching;

    public RequestLimits Limits { get; }

    public string SchedulerName => _policy.Name;

    public double BlockBytes => _kv.BlockBytes;

    /// <summary>Requests in the running batch, for a router: read without the allocation of <see cref="Snapshot"/>.</summary>
    public int RunningCount => _running.Count;

    /// <summary>Requests waiting for admission or swapped out to host memory.</summary>
    public int WaitingCount => _waiting.Count + _swapped.Count;

    /// <summary>The share of HBM's KV blocks in use (running sequences and idle sessions alike; free prefix-cached blocks are free).</summary>
    public double HbmKvUsedFraction => _kv.Hbm.Total == 0 ? 0 : (double)(_kv.Hbm.Used - _kv.Prefix.FreeBlocks) / _kv.Hbm.Total;

    /// <summary>
    /// Tokens of history whose KV the idle session keeps here, in HBM or host memory; 0 for a session this engine does
    /// not hold, whose KV was dropped, or whose turn is in flight.
    /// </summary>
    public long SessionTokens(string sessionId) =>
        _sessions.TryGet(sessionId, out var session) && session.Location != Sessions.KvLocation.None ? session.ContextTokens : 0;

    /// <summary>
    /// Tokens of the leading full blocks of <paramref name="hashes"/> that the prefix cache holds here: what a request
    /// with those prefix hashes would find cached, for a router (llm-d scores replicas by such prefix hits); 0 when
    /// prefix caching is off.
    /// </summary>
    public long PrefixCachedTokens(IReadOnlyList<ulong> hashes) => _prefixCaching ? (long)_kv.Prefix.Match(hashes) * Options.BlockSize : 0;

    /// <summary>Told of every exception an observer throws, after it was caught; must not throw itself.</summary>
    public Action<Exception>? OnObserverFault { get; set; }

    internal IReadOnlyList<Sequence> RunningSequences => _running;

    /// <summary>
    /// The head of the waiting queue once the host has handled it (<see cref="Efficiency.RequestOverheadSeconds"/>
    /// after its arrival); every request takes as long, so none behind an unready head is ready either.
    /// </summary>
    internal Sequence? NextWaiting => _waiting.First?.Value is { } head && head.ReadyTime <= Now ? head : null;

    /// <summary>Where the handles' Cancel and Stop go; the real-time loop routes them through its inbox.</summary>
    internal IRequestControl Control { get; set; }

    private double Now => _clock.Now;

    /// <summary>Queues one turn at the clock's time, or refuses it at once with the reason.</summary>
    /// <param name="streamEvents">Whether the handle's reader gets the request's tokens and end (a stream writer
    /// needs them; a simulation that watches the observer does not).</param>
    public SubmitResult Submit(InferenceRequest request, bool streamEvents = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        Reap();
        var refusal = Check(request);
        if (refusal is { } refused)
        {
            return refused;
        }

        if (request.SessionId is { } newId && _sessions.Count >= Options.MaxSessions && !_sessions.TryGet(newId, out _))
        {
            // Check refused the new session unless the policy evicts and a session is idle.
            EvictForLimit(_sessions.OldestIdle!);
        }

        Session? session = request.SessionId is { } sessionId ? _sessions.GetOrAdd(sessionId) : null;
        var handle = new RequestHandle(request, Now, Control, streamEvents);
        var seq = new Sequence(request, session, Now, handle)
        {
            PrefillTarget = request.PromptTokens,
            Prefix = session is null && _prefixCaching ? request.PrefixHashes : null,
            ReadyTime = Now + _efficiency.RequestOverheadSeconds,
        };
        handle.Sequence = seq;
        if (session is not null)
        {
            session.Active = seq;
        }

        _requests.Add(request.RequestId, seq);
        seq.QueueNode = _waiting.AddLast(seq);
        Emit(EngineEventKind.Queued, seq);
        if (seq.ReadyTime > Now)
        {
            _clock.Schedule(seq.ReadyTime, _onReady);
        }

        TryStartStep();
        return SubmitResult.Accepted(handle);
    }

    /// <summary>Cancels a request wherever it is and frees its KV at once.</summary>
    /// <returns>False when no such request is in flight.</returns>
    public bool Cancel(string requestId) => _requests.TryGetValue(requestId, out var seq) && Cancel(seq);

    /// <summary>
    /// Ends a request now as if the model had emitted end-of-sequence (a stop sequence matched): finish reason
    /// stop, and a running request's KV stays with its session. A request that has produced nothing is cancelled.
    /// </summary>
    /// <returns>False when no such request is in flight.</returns>
    public bool Stop(string requestId) => _requests.TryGetValue(requestId, out var seq) && Stop(seq);

    /// <summary>Ends a session: cancels its turn in flight and frees its KV in HBM and host.</summary>
    /// <returns>False when the session is unknown (never seen, closed or expired).</returns>
    public bool CloseSession(string sessionId)
    {
        Reap();
        if (!_sessions.TryGet(sessionId, out var session))
        {
            return false;
        }

        if (session.Active is { } active)
        {
            Finish(active, FinishReason.Cancelled);
        }

        Forget(session);
        TryStartStep();
        return true;
    }

    public bool HasSession(string sessionId)
    {
        Reap();
        return _sessions.TryGet(sessionId, out _);
    }

    public PoolSnapshot Snapshot()
    {
        Reap();
        int runningSessions = 0;
        foreach (var seq in _running)
        {
            runningSessions += seq.Session is null ? 0 : 1;
        }

        int swappedSessions = 0;
        foreach (var seq in _swapped)
        {
            swappedSessions += seq.Session is null ? 0 : 1;
        }

        return new PoolSnapshot(
            Now, Options.BlockSize, BlockBytes, _kv.Hbm.Total, _kv.Hbm.Used - _kv.Prefix.FreeBlocks, _kv.IdleHbmBlocks, _kv.Host.Total, _kv.Host.Used,
            _kv.IdleSessionsInHbm + runningSessions, _kv.IdleSessionsOnHost + swappedSessions, _sessions.Count,
            _running.Count, _waiting.Count, _swapped.Count,
            _kv.Prefix.FreeBlocks, _kv.Prefix.Blocks - _kv.Prefix.FreeBlocks, _kv.Prefix.SharedBlocks);
    }

    /// <summary>Ends every request in flight as cancelled, so that their readers complete: the engine is stopping.</summary>
    public void CancelAll()
    {
        foreach (var seq in _requests.Values.ToList())
        {
            Finish(seq, FinishReason.Cancelled);
        }

        // Requests past their last token whose response was still being finished on the host end now.
        foreach (var (seq, result) in _ending.ToList())
        {
            _ending.Remove(seq);
            Deliver(seq, result);
        }
    }

    void IRequestControl.Cancel(RequestHandle handle) => Cancel(handle.Sequence!);

    void IRequestControl.Stop(RequestHandle handle) => Stop(handle.Sequence!);

    internal bool Cancel(Sequence seq) => End(seq, FinishReason.Cancelled);

    internal bool Stop(Sequence seq) =>
        End(seq, seq.State == SequenceState.Running && seq.Generated > 0 ? FinishReason.Stop : FinishReason.Cancelled);

    // ---- Sessions. ----

    private void OnDropped(Session session) =>
        Notify(new EngineEvent(Now, EngineEventKind.Dropped, null, session.Id, session.ContextTokens));

    private void Forget(Session session)
    {
        _kv.Free(session);
        _sessions.Remove(session);
    }

    /// <summary>Forgets an idle session before its TTL to make room for a new one, freeing its KV as expiry would.</summary>
    private void EvictForLimit(Session session)
    {
        long tokens = session.Location == KvLocation.None ? 0 : session.ContextTokens;
        double bytes = session.Blocks * BlockBytes;
        Forget(session);
        Notify(new EngineEvent(Now, EngineEventKind.SessionEvicted, null, session.Id, tokens, bytes, Detail: SessionLimitPolicies.LimitReason));
    }

    /// <summary>
    /// Frees the sessions idle for a TTL at the clock's time. Reaping emits nothing and every decision reaps first,
    /// so when it runs never changes what the engine does: only what a snapshot shows.
    /// </summary>
    private void Reap() => _sessions.Reap(Now, _kv.Free);

    private SubmitResult? Check(InferenceRequest r)
    {
        if (string.IsNullOrEmpty(r.RequestId))
        {
            return SubmitResult.Refused(RejectReason.InvalidArgument, "request_id", "must not be empty");
        }

        if (Limits.Check(r.PromptTokens, r.MaxTokens, r.StopAfterTokens) is { } error)
        {
            return SubmitResult.Refused(RejectReason.InvalidArgument, error);
        }

        if (Limits.CheckCapacity(r.PromptTokens, r.MaxTokens) is { } capacity)
        {
            return SubmitResult.Refused(RejectReason.ExceedsKvCapacity, capacity);
        }

        if (_requests.ContainsKey(r.RequestId))
        {
            return SubmitResult.Refused(RejectReason.DuplicateRequest, "request_id", $"'{r.RequestId}' is already in flight");
        }

        if (r.SessionId is { } sid && _sessions.TryGet(sid, out var s) && s.Active is not null)
        {
            return SubmitResult.Refused(RejectReason.SessionBusy, "session_id", $"'{sid}' already has a turn in flight ({s.Active.Request.RequestId})");
        }

        if (_waiting.Count >= Options.MaxWaiting)
        {
            return SubmitResult.Refused(RejectReason.QueueFull, null, $"waiting queue is full: {_waiting.Count} of {Options.MaxWaiting} requests waiting");
        }

        return r.SessionId is { } id ? CheckSessionLimit(id) : null;
    }

    /// <summary>Null when session <paramref name="id"/> is held, or there is room for it (an idle session to evict counts).</summary>
    private SubmitResult? CheckSessionLimit(string id)
    {
        if (_sessions.Count < Options.MaxSessions || _sessions.TryGet(id, out _))
        {
            return null;
        }

        string held = $"'{id}' is a new session and the server holds its limit of {Options.MaxSessions} sessions (MockServe:Engine:MaxSessions)";
        if (Options.SessionLimitPolicy == SessionLimitPolicies.Refuse)
        {
            return SubmitResult.Refused(
                RejectReason.SessionLimit, "session_id", $"{held}; the policy refuse (MockServe:Engine:SessionLimitPolicy) evicts none");
        }

        return _sessions.OldestIdle is null
            ? SubmitResult.Refused(RejectReason.SessionLimit, "session_id", $"{held} and none is idle")
            : null;
    }

    private void Emit(EngineEventKind kind, Sequence seq, long count = 0, string? detail = null) =>
        Notify(new EngineEvent(Now, kind, seq.Request, seq.Request.SessionId, count, Detail: detail));

    private void Notify(in EngineEvent e)
    {
        try
        {
            _observer.OnEvent(e);
        }
        catch (Exception ex)
        {
            Fault(ex);
        }
    }

    private void Fault(Exception ex) => OnObserverFault?.Invoke(ex);

    /// <summary>Ends a request in flight with <paramref name="reason"/>; false when it has already ended.</summary>
    private bool End(Sequence seq, FinishReason reason)
    {
        Reap();
        if (seq.State == SequenceState.Done)
        {
            return false;
        }

        Finish(seq, reason);
        TryStartStep();
        return true;
    }

    private sealed class NullObserver : IEngineObserver
    {
        public static readonly NullObserver Instance = new();

        public void OnEvent(in EngineEvent e)
        {
        }

        public void OnStep(in StepSummary step)
        {
        }
    }
}
