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
public sealed class InferenceEngine : IRequestControl
{
    private readonly VirtualClock _clock;
    private readonly IEngineObserver _observer;
    private readonly ISchedulingPolicy _policy;
    private readonly IPreemptionPolicy _preemption;
    private readonly KvCacheManager _kv;
    private readonly SessionTable _sessions;
    private readonly Dictionary<string, Sequence> _requests = new(StringComparer.Ordinal);
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly LinkedList<Sequence> _swapped = new();
    private readonly List<Sequence> _running = [];
    private readonly StepPlan _plan = new();
    private readonly Action<double> _onStepEnd;
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
        Limits = new RequestLimits(deployment.Model.MaxContext, _kv, deployment.Compression.TokensKept, options.BlockSize);
        _onStepEnd = OnStepEnd;
        Control = this;
    }

    public GpuCostModel CostModel { get; }

    public EngineOptions Options { get; }

    public RequestLimits Limits { get; }

    public string SchedulerName => _policy.Name;

    public double BlockBytes => _kv.BlockBytes;

    /// <summary>Tokens of KV the HBM pool holds when full (token compression applied).</summary>
    public long HbmCapacityTokens => Limits.HbmCapacityTokens;

    /// <summary>Exceptions observers have thrown; each was caught and the engine went on.</summary>
    public long ObserverFaults { get; private set; }

    /// <summary>Told of every exception an observer throws, after it was caught; must not throw itself.</summary>
    public Action<Exception>? OnObserverFault { get; set; }

    internal IReadOnlyList<Sequence> RunningSequences => _running;

    internal Sequence? NextWaiting => _waiting.First?.Value;

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

        Session? session = request.SessionId is { } sessionId ? _sessions.GetOrAdd(sessionId) : null;
        var handle = new RequestHandle(request, Now, Control, streamEvents);
        var seq = new Sequence(request, session, Now, handle) { PrefillTarget = request.PromptTokens };
        handle.Sequence = seq;
        if (session is not null)
        {
            session.Active = seq;
        }

        _requests.Add(request.RequestId, seq);
        seq.QueueNode = _waiting.AddLast(seq);
        Emit(EngineEventKind.Queued, seq);
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
            Now, Options.BlockSize, BlockBytes, _kv.Hbm.Total, _kv.Hbm.Used, _kv.IdleHbmBlocks, _kv.Host.Total, _kv.Host.Used,
            _kv.IdleSessionsInHbm + runningSessions, _kv.IdleSessionsOnHost + swappedSessions, _sessions.Count,
            _running.Count, _waiting.Count, _swapped.Count);
    }

    /// <summary>Ends every request in flight as cancelled, so that their readers complete: the engine is stopping.</summary>
    public void CancelAll()
    {
        foreach (var seq in _requests.Values.ToList())
        {
            Finish(seq, FinishReason.Cancelled);
        }
    }

    void IRequestControl.Cancel(RequestHandle handle) => Cancel(handle.Sequence!);

    void IRequestControl.Stop(RequestHandle handle) => Stop(handle.Sequence!);

    internal bool Cancel(Sequence seq)
    {
        Reap();
        if (seq.State == SequenceState.Done)
        {
            return false;
        }

        Finish(seq, FinishReason.Cancelled);
        TryStartStep();
        return true;
    }

    internal bool Stop(Sequence seq)
    {
        Reap();
        if (seq.State == SequenceState.Done)
        {
            return false;
        }

        Finish(seq, seq.State == SequenceState.Running && seq.Generated > 0 ? FinishReason.Stop : FinishReason.Cancelled);
        TryStartStep();
        return true;
    }

    // ---- Scheduling primitives used by the policies (always called at a step start). ----

    /// <summary>Swaps preempted sequences back in, oldest first, while HBM and the batch have room.</summary>
    internal void ResumeSwapped(StepPlan plan)
    {
        while (_swapped.First is { } node && _running.Count < Options.MaxRunning)
        {
            var seq = node.Value;
            if (!_kv.MakeRoom(seq.HostBlocks, plan, exclude: null))
            {
                return;
            }

            _swapped.Remove(node);
            seq.QueueNode = null;
            _kv.Host.Release(seq.HostBlocks);
            _kv.Hbm.Allocate(seq.HostBlocks);
            plan.SwapIns.Add((seq, seq.HostBlocks * BlockBytes));
            seq.HbmBlocks = seq.HostBlocks;
            seq.HostBlocks = 0;
            seq.State = SequenceState.Running;
            _running.Add(seq);
        }
    }

    /// <summary>
    /// Gives the head of the waiting queue its KV blocks, reusing its session's history where it is resident
    /// or on host, and evicting idle sessions if needed. False (and nothing changed) when it does not fit now.
    /// </summary>
    internal bool TryAdmit(Sequence seq, StepPlan plan)
    {
        if (_running.Count >= Options.MaxRunning)
        {
            return false;
        }

        var session = seq.Session;
        long promptBlocks = _kv.BlocksFor(seq.PrefillTarget);
        if (seq.Admitted || session is null || session.Location == KvLocation.None)
        {
            if (!_kv.MakeRoom(promptBlocks, plan, exclude: null))
            {
                return false;
            }

            _kv.Hbm.Allocate(promptBlocks);
            seq.HbmBlocks = promptBlocks;
            if (!seq.Admitted)
            {
                bool known = session is { ContextTokens: > 0 };
                seq.Cache = known ? CacheState.Miss : CacheState.New;
                seq.RecomputedTokens += known ? Math.Min(session!.ContextTokens, seq.PrefillTarget) : 0;
            }
        }
        else
        {
            long cached = Math.Min(session.ContextTokens, seq.PrefillTarget - 1);
            long keep = _kv.BlocksFor(cached);
            if (session.Location == KvLocation.Hbm)
            {
                long surplus = session.Blocks - keep;
                if (!_kv.MakeRoom(Math.Max(0, promptBlocks - keep - surplus), plan, exclude: session))
                {
                    return false;
                }

                _kv.Unpark(session);
                _kv.Hbm.Release(session.Blocks);
                _kv.Hbm.Allocate(promptBlocks);
                seq.Cache = CacheState.Hot;
            }
            else
            {
                if (!_kv.MakeRoom(promptBlocks, plan, exclude: session))
                {
                    return false;
                }

                _kv.Unpark(session);
                _kv.Host.Release(session.Blocks);
                _kv.Hbm.Allocate(promptBlocks);
                plan.SwapIns.Add((seq, keep * BlockBytes));
                seq.Cache = CacheState.Host;
            }

            session.Location = KvLocation.None;
            session.Blocks = 0;
            seq.HbmBlocks = promptBlocks;
            seq.KvTokens = cached;
            seq.CachedTokens = cached;
        }

        _waiting.Remove(seq.QueueNode!);
        seq.QueueNode = null;
        seq.Admitted = true;
        seq.State = SequenceState.Running;
        _running.Add(seq);
        Emit(EngineEventKind.Admitted, seq, count: seq.CachedTokens);
        return true;
    }

    internal void AddPrefill(Sequence seq, long tokens, StepPlan plan)
    {
        plan.Prefills.Add((seq, tokens));
        plan.Cost.AddPrefill(tokens, seq.KvTokens);
        plan.PrefillTokens += tokens;
    }

    /// <summary>
    /// Adds one decode token for every decoding sequence, in admission order. A sequence whose next token needs
    /// a block that HBM cannot give (even after evicting idle sessions) preempts the latest-admitted running
    /// sequences, itself last, as vLLM does.
    /// </summary>
    internal void PlanDecodes(StepPlan plan)
    {
        for (int i = 0; i < _running.Count; i++)
        {
            var seq = _running[i];
            if (!seq.IsDecoding)
            {
                continue;
            }

            long need = _kv.BlocksFor(seq.KvTokens + 1) - seq.HbmBlocks;
            while (need > 0 && !_kv.MakeRoom(need, plan, exclude: null))
            {
                var victim = _running[^1];
                Preempt(victim, plan);
                if (victim == seq)
                {
                    break;
                }
            }

            if (seq.State != SequenceState.Running)
            {
                break;
            }

            _kv.Hbm.Allocate(need);
            seq.HbmBlocks += need;
            plan.Cost.AddDecode(seq.KvTokens);
            seq.KvTokens++;
            plan.Decodes.Add(seq);
        }
    }

    /// <summary>Moves a preempted sequence's KV to host, if host DDR can take it.</summary>
    internal bool TrySwapOut(Sequence seq, StepPlan plan)
    {
        if (!_kv.MakeHostRoom(seq.HbmBlocks))
        {
            return false;
        }

        _kv.Host.Allocate(seq.HbmBlocks);
        _kv.Hbm.Release(seq.HbmBlocks);
        plan.SwapOuts.Add((seq.Request.SessionId, seq, seq.HbmBlocks * BlockBytes));
        seq.HostBlocks = seq.HbmBlocks;
        seq.HbmBlocks = 0;
        seq.State = SequenceState.Swapped;
        seq.QueueNode = _swapped.AddLast(seq);
        return true;
    }

    /// <summary>Frees a preempted sequence's KV; it waits at the head of the queue to prefill everything again.</summary>
    internal void DropForRecompute(Sequence seq)
    {
        _kv.Hbm.Release(seq.HbmBlocks);
        seq.HbmBlocks = 0;
        seq.RecomputedTokens += seq.KvTokens;
        seq.KvTokens = 0;
        seq.PrefillTarget = seq.Request.PromptTokens + seq.Generated;
        seq.State = SequenceState.Waiting;
        seq.QueueNode = _waiting.AddFirst(seq);
    }

    // ---- The step loop. ----

    private void TryStartStep()
    {
        if (_stepInFlight)
        {
            return;
        }

        var plan = _plan;
        plan.Clear();
        _policy.Plan(this, plan);
        if (plan.IsEmpty)
        {
            return;
        }

        double start = Now;
        plan.Start = start;
        double cursor = start;
        foreach (var (sessionId, seq, bytes) in plan.SwapOuts)
        {
            double duration = CostModel.SwapSeconds(bytes);
            Notify(new EngineEvent(cursor, EngineEventKind.SwapOut, seq?.Request, sessionId, Bytes: bytes, Duration: duration));
            cursor += duration;
        }

        foreach (var (seq, bytes) in plan.SwapIns)
        {
            double duration = CostModel.SwapSeconds(bytes);
            Notify(new EngineEvent(cursor, EngineEventKind.SwapInStart, seq.Request, seq.Request.SessionId, Bytes: bytes, Duration: duration));
            cursor += duration;
            seq.SwapInSeconds += duration;
            Notify(new EngineEvent(cursor, EngineEventKind.SwapInEnd, seq.Request, seq.Request.SessionId, Bytes: bytes, Duration: duration));
        }

        plan.SwapSeconds = cursor - start;
        plan.ComputeSeconds = CostModel.StepSeconds(plan.Cost);
        _stepInFlight = true;
        // The step ends when the model says, however late a real timer fires: the clock runs it at that time.
        _clock.Schedule(cursor + plan.ComputeSeconds, _onStepEnd);
    }

    private void OnStepEnd(double at)
    {
        var plan = _plan;
        foreach (var (seq, tokens) in plan.Prefills)
        {
            if (seq.State != SequenceState.Running)
            {
                continue;
            }

            seq.KvTokens += tokens;
            seq.PrefillSeconds += plan.ComputeSeconds;
            Emit(EngineEventKind.PrefillChunk, seq, count: tokens);
            if (seq.KvTokens >= seq.PrefillTarget)
            {
                EmitToken(seq);
            }
        }

        foreach (var seq in plan.Decodes)
        {
            if (seq.State == SequenceState.Running)
            {
                EmitToken(seq);
            }
        }

        var step = new StepSummary(
            plan.Start, at, plan.Decodes.Count, plan.PrefillTokens, plan.SwapSeconds, plan.ComputeSeconds, _running.Count, _waiting.Count);
        try
        {
            _observer.OnStep(step);
        }
        catch (Exception ex)
        {
            Fault(ex);
        }

        _stepInFlight = false;
        Reap();
        TryStartStep();
    }

    private void EmitToken(Sequence seq)
    {
        double now = Now;
        double gap = now - seq.LastTokenTime;
        seq.LastTokenTime = now;
        seq.Generated++;
        if (seq.Generated == 1)
        {
            seq.FirstTokenTime = now;
        }

        seq.Handle.WriteToken(now, seq.Generated);
        Notify(new EngineEvent(now, EngineEventKind.Token, seq.Request, seq.Request.SessionId, seq.Generated, Gap: gap));
        if (seq.Generated >= seq.Target)
        {
            Finish(seq, seq.TargetReason);
        }
    }

    private void Finish(Sequence seq, FinishReason reason)
    {
        double now = Now;
        switch (seq.State)
        {
            case SequenceState.Waiting:
                _waiting.Remove(seq.QueueNode!);
                break;
            case SequenceState.Swapped:
                _swapped.Remove(seq.QueueNode!);
                break;
            case SequenceState.Running:
                _running.Remove(seq);
                break;
        }

        seq.QueueNode = null;
        seq.State = SequenceState.Done;
        _requests.Remove(seq.Request.RequestId);
        _kv.Host.Release(seq.HostBlocks);
        seq.HostBlocks = 0;
        if (seq.Session is { } session)
        {
            session.Active = null;
            if (reason != FinishReason.Cancelled && seq.HbmBlocks > 0)
            {
                // The turn's KV (history, prompt and output) stays resident as the session's history.
                session.ContextTokens = seq.KvTokens;
                session.Location = KvLocation.Hbm;
                session.Blocks = seq.HbmBlocks;
                _kv.Park(session);
                seq.HbmBlocks = 0;
            }

            _sessions.MarkIdle(session, now);
        }

        _kv.Hbm.Release(seq.HbmBlocks);
        seq.HbmBlocks = 0;
        bool started = !double.IsNaN(seq.FirstTokenTime);
        double ttft = started ? seq.FirstTokenTime - seq.ArrivalTime : now - seq.ArrivalTime;
        var result = new RequestResult
        {
            Request = seq.Request,
            FinishReason = reason,
            CacheState = seq.Cache,
            PromptTokens = seq.Request.PromptTokens,
            CachedTokens = seq.CachedTokens,
            CompletionTokens = seq.Generated,
            RecomputedTokens = seq.RecomputedTokens,
            Preemptions = seq.Preemptions,
            Admitted = seq.Admitted,
            ArrivalTime = seq.ArrivalTime,
            FirstTokenTime = seq.FirstTokenTime,
            FinishTime = now,
            SwapInSeconds = seq.SwapInSeconds,
            PrefillSeconds = seq.PrefillSeconds,
            QueueSeconds = Math.Max(0, ttft - seq.SwapInSeconds - seq.PrefillSeconds),
            DecodeSeconds = started ? now - seq.FirstTokenTime : 0,
        };
        seq.Handle.End(result);
        Notify(new EngineEvent(now, EngineEventKind.Finished, seq.Request, seq.Request.SessionId, seq.Generated, Detail: reason.ToString(), Result: result));
    }

    private void Preempt(Sequence victim, StepPlan plan)
    {
        _running.Remove(victim);
        victim.Preemptions++;
        long tokens = victim.KvTokens;
        _preemption.Preempt(this, victim, plan);
        string mode = victim.State == SequenceState.Swapped ? PreemptionPolicies.Swap : PreemptionPolicies.Recompute;
        Emit(EngineEventKind.Preempted, victim, count: tokens, detail: mode);
    }

    // ---- Sessions. ----

    private void OnDropped(Session session) =>
        Notify(new EngineEvent(Now, EngineEventKind.Dropped, null, session.Id, session.ContextTokens));

    private void Forget(Session session)
    {
        _kv.Free(session);
        _sessions.Remove(session);
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

        return null;
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

    private void Fault(Exception ex)
    {
        ObserverFaults++;
        OnObserverFault?.Invoke(ex);
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
