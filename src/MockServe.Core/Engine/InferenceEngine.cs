using MockServe.Core.CostModel;
using MockServe.Core.Profiles;
using MockServe.Core.Sessions;

namespace MockServe.Core.Engine;

/// <summary>
/// One model replica on one tensor-parallel GPU group: iteration-level continuous batching over a paged KV
/// cache in HBM, with sessions whose KV stays between turns, is swapped to host DDR or dropped under pressure.
/// Every step lasts what <see cref="GpuCostModel"/> says; the clock decides whether that is real or virtual time.
/// Thread-safe: public members and clock callbacks serialize on one lock; observers run under it.
/// </summary>
public sealed class InferenceEngine
{
    private readonly object _gate = new();
    private readonly IEngineClock _clock;
    private readonly IEngineObserver _observer;
    private readonly ISchedulingPolicy _policy;
    private readonly IPreemptionPolicy _preemption;
    private readonly KvBlockPool _hbm;
    private readonly KvBlockPool _host;
    private readonly Dictionary<string, Sequence> _requests = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Session> _sessions = new(StringComparer.Ordinal);
    private readonly LinkedList<Sequence> _waiting = new();
    private readonly LinkedList<Sequence> _swapped = new();
    private readonly List<Sequence> _running = [];
    private readonly LinkedList<Session> _hbmLru = new();
    private readonly LinkedList<Session> _hostLru = new();
    private readonly StepPlan _plan = new();
    private readonly Action<double> _onStepEnd;
    private long _idleHbmBlocks;
    private double _time;
    private double _nextExpiryScan;
    private bool _stepInFlight;

    public InferenceEngine(Deployment deployment, EngineOptions options, IEngineClock clock, IEngineObserver? observer = null)
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
        BlockBytes = CostModel.KvBytesPerStoredToken * options.BlockSize;
        _hbm = new KvBlockPool("HBM", (long)Math.Floor(CostModel.KvCapacityBytes / BlockBytes));
        _host = new KvBlockPool("host", (long)Math.Floor(CostModel.HostCapacityBytes / BlockBytes));
        _time = clock.Now;
        _onStepEnd = OnStepEnd;
    }

    public GpuCostModel CostModel { get; }

    public EngineOptions Options { get; }

    public string SchedulerName => _policy.Name;

    public double BlockBytes { get; }

    /// <summary>Tokens of KV the HBM pool holds when full (token compression applied).</summary>
    public long HbmCapacityTokens => (long)Math.Floor(_hbm.Total * Options.BlockSize / CostModel.Deployment.Compression.TokensKept);

    internal IReadOnlyList<Sequence> RunningSequences => _running;

    internal Sequence? NextWaiting => _waiting.First?.Value;

    /// <summary>Queues one turn, or refuses it at once with the reason.</summary>
    public SubmitResult Submit(InferenceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        lock (_gate)
        {
            Enter();
            var refusal = Check(request);
            if (!refusal.IsAccepted)
            {
                return refusal;
            }

            Session? session = null;
            if (request.SessionId is { } sessionId)
            {
                if (!_sessions.TryGetValue(sessionId, out session))
                {
                    session = new Session(sessionId);
                    _sessions.Add(sessionId, session);
                }

                session.LastUsed = _time;
            }

            var seq = new Sequence(request, session, _time) { PrefillTarget = request.PromptTokens };
            if (session is not null)
            {
                session.Active = seq;
            }

            _requests.Add(request.RequestId, seq);
            seq.QueueNode = _waiting.AddLast(seq);
            Emit(EngineEventKind.Queued, seq);
            TryStartStep();
            return SubmitResult.Accepted;
        }
    }

    /// <summary>Cancels a request wherever it is and frees its KV at once.</summary>
    /// <returns>False when no such request is in flight.</returns>
    public bool Cancel(string requestId)
    {
        lock (_gate)
        {
            Enter();
            if (!_requests.TryGetValue(requestId, out var seq))
            {
                return false;
            }

            Finish(seq, FinishReason.Cancelled);
            TryStartStep();
            return true;
        }
    }

    /// <summary>
    /// Ends a request now as if the model had emitted end-of-sequence (a stop sequence matched): finish reason
    /// stop, and a running request's KV stays with its session. A request that has produced nothing is cancelled.
    /// </summary>
    /// <returns>False when no such request is in flight.</returns>
    public bool Stop(string requestId)
    {
        lock (_gate)
        {
            Enter();
            if (!_requests.TryGetValue(requestId, out var seq))
            {
                return false;
            }

            Finish(seq, seq.State == SequenceState.Running && seq.Generated > 0 ? FinishReason.Stop : FinishReason.Cancelled);
            TryStartStep();
            return true;
        }
    }

    /// <summary>Ends a session: cancels its turn in flight and frees its KV in HBM and host.</summary>
    /// <returns>False when the session is unknown (never seen, closed or expired).</returns>
    public bool CloseSession(string sessionId)
    {
        lock (_gate)
        {
            Enter();
            if (!_sessions.TryGetValue(sessionId, out var session))
            {
                return false;
            }

            if (session.Active is { } active)
            {
                Finish(active, FinishReason.Cancelled);
            }

            ForgetSession(session);
            TryStartStep();
            return true;
        }
    }

    public bool HasSession(string sessionId)
    {
        lock (_gate)
        {
            Enter();
            return _sessions.ContainsKey(sessionId);
        }
    }

    public PoolSnapshot Snapshot()
    {
        lock (_gate)
        {
            Enter();
            int resident = 0;
            int swapped = 0;
            foreach (var session in _sessions.Values)
            {
                bool running = session.Active is { State: SequenceState.Running };
                if (session.Location == KvLocation.Hbm || running)
                {
                    resident++;
                }
                else if (session.Location == KvLocation.Host || session.Active is { State: SequenceState.Swapped })
                {
                    swapped++;
                }
            }

            return new PoolSnapshot(
                _time, Options.BlockSize, BlockBytes, _hbm.Total, _hbm.Used, _idleHbmBlocks, _host.Total, _host.Used,
                resident, swapped, _sessions.Count, _running.Count, _waiting.Count, _swapped.Count);
        }
    }

    // ---- Scheduling primitives used by the policies (always called under the lock, at a step start). ----

    /// <summary>Swaps preempted sequences back in, oldest first, while HBM and the batch have room.</summary>
    internal void ResumeSwapped(StepPlan plan)
    {
        while (_swapped.First is { } node && _running.Count < Options.MaxRunning)
        {
            var seq = node.Value;
            if (!MakeRoom(seq.HostBlocks, plan, exclude: null))
            {
                return;
            }

            _swapped.Remove(node);
            seq.QueueNode = null;
            _host.Release(seq.HostBlocks);
            _hbm.Allocate(seq.HostBlocks);
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
        long promptBlocks = BlocksFor(seq.PrefillTarget);
        if (seq.Admitted || session is null || session.Location == KvLocation.None)
        {
            if (!MakeRoom(promptBlocks, plan, exclude: null))
            {
                return false;
            }

            _hbm.Allocate(promptBlocks);
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
            long keep = BlocksFor(cached);
            if (session.Location == KvLocation.Hbm)
            {
                long surplus = session.Blocks - keep;
                if (!MakeRoom(Math.Max(0, promptBlocks - keep - surplus), plan, exclude: session))
                {
                    return false;
                }

                Unlink(session);
                _hbm.Release(session.Blocks);
                _hbm.Allocate(promptBlocks);
                seq.Cache = CacheState.Hot;
            }
            else
            {
                if (!MakeRoom(promptBlocks, plan, exclude: session))
                {
                    return false;
                }

                Unlink(session);
                _host.Release(session.Blocks);
                _hbm.Allocate(promptBlocks);
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

            long need = BlocksFor(seq.KvTokens + 1) - seq.HbmBlocks;
            while (need > 0 && !MakeRoom(need, plan, exclude: null))
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

            _hbm.Allocate(need);
            seq.HbmBlocks += need;
            plan.Cost.AddDecode(seq.KvTokens);
            seq.KvTokens++;
            plan.Decodes.Add(seq);
        }
    }

    /// <summary>Moves a preempted sequence's KV to host, if host DDR can take it.</summary>
    internal bool TrySwapOut(Sequence seq, StepPlan plan)
    {
        if (!MakeHostRoom(seq.HbmBlocks))
        {
            return false;
        }

        _host.Allocate(seq.HbmBlocks);
        _hbm.Release(seq.HbmBlocks);
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
        _hbm.Release(seq.HbmBlocks);
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

        plan.Start = _time;
        double cursor = _time;
        foreach (var (sessionId, seq, bytes) in plan.SwapOuts)
        {
            double duration = CostModel.SwapSeconds(bytes);
            _observer.OnEvent(new EngineEvent(cursor, EngineEventKind.SwapOut, seq?.Request, sessionId, Bytes: bytes, Duration: duration));
            cursor += duration;
        }

        foreach (var (seq, bytes) in plan.SwapIns)
        {
            double duration = CostModel.SwapSeconds(bytes);
            _observer.OnEvent(new EngineEvent(cursor, EngineEventKind.SwapInStart, seq.Request, seq.Request.SessionId, Bytes: bytes, Duration: duration));
            cursor += duration;
            seq.SwapInSeconds += duration;
            _observer.OnEvent(new EngineEvent(cursor, EngineEventKind.SwapInEnd, seq.Request, seq.Request.SessionId, Bytes: bytes, Duration: duration));
        }

        plan.SwapSeconds = cursor - _time;
        plan.ComputeSeconds = CostModel.StepSeconds(plan.Cost);
        _stepInFlight = true;
        _clock.Schedule(cursor + plan.ComputeSeconds, _onStepEnd);
    }

    private void OnStepEnd(double at)
    {
        lock (_gate)
        {
            _time = Math.Max(_time, at);
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

            _observer.OnStep(new StepSummary(
                plan.Start, _time, plan.Decodes.Count, plan.PrefillTokens, plan.SwapSeconds, plan.ComputeSeconds,
                _running.Count, _waiting.Count));
            _stepInFlight = false;
            // The next step starts when this one ended in model time, however late the timer fired.
            ExpireSessions();
            TryStartStep();
        }
    }

    private void EmitToken(Sequence seq)
    {
        seq.Generated++;
        if (seq.Generated == 1)
        {
            seq.FirstTokenTime = _time;
        }

        Emit(EngineEventKind.Token, seq, count: seq.Generated);
        if (seq.Generated >= seq.Target)
        {
            Finish(seq, seq.TargetReason);
        }
    }

    private void Finish(Sequence seq, FinishReason reason)
    {
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
        _host.Release(seq.HostBlocks);
        seq.HostBlocks = 0;
        if (seq.Session is { } session)
        {
            session.Active = null;
            session.LastUsed = _time;
            if (reason != FinishReason.Cancelled && seq.HbmBlocks > 0)
            {
                // The turn's KV (history, prompt and output) stays resident as the session's history.
                session.ContextTokens = seq.KvTokens;
                session.Location = KvLocation.Hbm;
                session.Blocks = seq.HbmBlocks;
                Link(session);
                seq.HbmBlocks = 0;
            }
        }

        _hbm.Release(seq.HbmBlocks);
        seq.HbmBlocks = 0;
        bool started = !double.IsNaN(seq.FirstTokenTime);
        double ttft = started ? seq.FirstTokenTime - seq.ArrivalTime : _time - seq.ArrivalTime;
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
            ArrivalTime = seq.ArrivalTime,
            FirstTokenTime = seq.FirstTokenTime,
            FinishTime = _time,
            SwapInSeconds = seq.SwapInSeconds,
            PrefillSeconds = seq.PrefillSeconds,
            QueueSeconds = Math.Max(0, ttft - seq.SwapInSeconds - seq.PrefillSeconds),
            DecodeSeconds = started ? _time - seq.FirstTokenTime : 0,
        };
        _observer.OnEvent(new EngineEvent(_time, EngineEventKind.Finished, seq.Request, seq.Request.SessionId, seq.Generated, Detail: reason.ToString(), Result: result));
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

    // ---- KV pools and idle sessions. ----

    private long BlocksFor(long tokens)
    {
        long stored = (long)Math.Ceiling(tokens * CostModel.Deployment.Compression.TokensKept);
        return (stored + Options.BlockSize - 1) / Options.BlockSize;
    }

    /// <summary>
    /// Frees HBM until <paramref name="blocks"/> are free by evicting idle sessions, least recently used first:
    /// to host when swapping is on and DDR has room, else dropped. Evicts nothing when that cannot suffice.
    /// </summary>
    private bool MakeRoom(long blocks, StepPlan plan, Session? exclude)
    {
        if (_hbm.Free >= blocks)
        {
            return true;
        }

        long excluded = exclude is { Location: KvLocation.Hbm } ? exclude.Blocks : 0;
        if (_hbm.Free + _idleHbmBlocks - excluded < blocks)
        {
            return false;
        }

        var node = _hbmLru.First;
        while (_hbm.Free < blocks && node is not null)
        {
            var next = node.Next;
            if (node.Value != exclude)
            {
                Evict(node.Value, plan, exclude);
            }

            node = next;
        }

        return true;
    }

    /// <summary>Moves an idle session out of HBM; <paramref name="keep"/> (the session being admitted) is never dropped from host.</summary>
    private void Evict(Session session, StepPlan plan, Session? keep)
    {
        Unlink(session);
        _hbm.Release(session.Blocks);
        if (Options.SwapEnabled && MakeHostRoom(session.Blocks, keep))
        {
            _host.Allocate(session.Blocks);
            session.Location = KvLocation.Host;
            Link(session);
            plan.SwapOuts.Add((session.Id, null, session.Blocks * BlockBytes));
            return;
        }

        DropSession(session);
    }

    /// <summary>
    /// Frees host DDR for <paramref name="blocks"/> by dropping the least recently used swapped sessions other
    /// than <paramref name="keep"/>. Drops nothing when that cannot suffice.
    /// </summary>
    private bool MakeHostRoom(long blocks, Session? keep = null)
    {
        long kept = keep is { Location: KvLocation.Host } ? keep.Blocks : 0;
        if (blocks > _host.Total - kept)
        {
            return false;
        }

        var node = _hostLru.First;
        while (_host.Free < blocks && node is not null)
        {
            var next = node.Next;
            if (node.Value != keep)
            {
                Unlink(node.Value);
                _host.Release(node.Value.Blocks);
                DropSession(node.Value);
            }

            node = next;
        }

        return _host.Free >= blocks;
    }

    private void DropSession(Session session)
    {
        _observer.OnEvent(new EngineEvent(_time, EngineEventKind.Dropped, null, session.Id, session.ContextTokens));
        session.Location = KvLocation.None;
        session.Blocks = 0;
    }

    private void Link(Session session)
    {
        if (session.Location == KvLocation.Hbm)
        {
            session.LruNode = _hbmLru.AddLast(session);
            _idleHbmBlocks += session.Blocks;
        }
        else if (session.Location == KvLocation.Host)
        {
            session.LruNode = _hostLru.AddLast(session);
        }
    }

    private void Unlink(Session session)
    {
        if (session.LruNode is not { } node)
        {
            return;
        }

        node.List!.Remove(node);
        session.LruNode = null;
        if (session.Location == KvLocation.Hbm)
        {
            _idleHbmBlocks -= session.Blocks;
        }
    }

    private void ForgetSession(Session session)
    {
        Unlink(session);
        if (session.Location == KvLocation.Hbm)
        {
            _hbm.Release(session.Blocks);
        }
        else if (session.Location == KvLocation.Host)
        {
            _host.Release(session.Blocks);
        }

        session.Location = KvLocation.None;
        session.Blocks = 0;
        _sessions.Remove(session.Id);
    }

    /// <summary>Catches up with the clock and expires idle sessions past their TTL.</summary>
    private void Enter()
    {
        _time = Math.Max(_time, _clock.Now);
        ExpireSessions();
    }

    private void ExpireSessions()
    {
        if (_time < _nextExpiryScan)
        {
            return;
        }

        double ttl = Options.SessionTtlSeconds;
        _nextExpiryScan = _time + Math.Max(ttl / 16, 1e-3);
        List<Session>? expired = null;
        foreach (var session in _sessions.Values)
        {
            if (session.Active is null && session.LastUsed + ttl <= _time)
            {
                (expired ??= []).Add(session);
            }
        }

        if (expired is null)
        {
            return;
        }

        expired.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        foreach (var session in expired)
        {
            ForgetSession(session);
        }
    }

    private SubmitResult Check(InferenceRequest r)
    {
        long maxContext = CostModel.Deployment.Model.MaxContext;
        if (string.IsNullOrEmpty(r.RequestId))
        {
            return new(RejectReason.InvalidArgument, "request_id: must not be empty");
        }

        if (r.PromptTokens < 1)
        {
            return new(RejectReason.InvalidArgument, $"prompt_tokens: must be at least 1, got {r.PromptTokens}");
        }

        if (r.MaxTokens < 1)
        {
            return new(RejectReason.InvalidArgument, $"max_tokens: must be at least 1, got {r.MaxTokens}");
        }

        if (r.StopAfterTokens is < 1)
        {
            return new(RejectReason.InvalidArgument, $"stop_after_tokens: must be at least 1, got {r.StopAfterTokens}");
        }

        if (r.PromptTokens > maxContext || r.PromptTokens + r.MaxTokens > maxContext)
        {
            return new(RejectReason.InvalidArgument,
                $"prompt_tokens + max_tokens: {r.PromptTokens} + {r.MaxTokens} = {r.PromptTokens + r.MaxTokens} exceeds the model's context of {maxContext} tokens");
        }

        if (BlocksFor(r.PromptTokens + r.MaxTokens) > _hbm.Total)
        {
            return new(RejectReason.ExceedsKvCapacity,
                $"prompt_tokens + max_tokens: {r.PromptTokens + r.MaxTokens} tokens need more KV than the HBM left after weights holds ({HbmCapacityTokens} tokens)");
        }

        if (_requests.ContainsKey(r.RequestId))
        {
            return new(RejectReason.DuplicateRequest, $"request_id: '{r.RequestId}' is already in flight");
        }

        if (r.SessionId is { } sid && _sessions.TryGetValue(sid, out var s) && s.Active is not null)
        {
            return new(RejectReason.SessionBusy, $"session_id: '{sid}' already has a turn in flight ({s.Active.Request.RequestId})");
        }

        if (_waiting.Count >= Options.MaxWaiting)
        {
            return new(RejectReason.QueueFull, $"waiting queue is full: {_waiting.Count} of {Options.MaxWaiting} requests waiting");
        }

        return SubmitResult.Accepted;
    }

    private void Emit(EngineEventKind kind, Sequence seq, long count = 0, string? detail = null) =>
        _observer.OnEvent(new EngineEvent(_time, kind, seq.Request, seq.Request.SessionId, count, Detail: detail));

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
