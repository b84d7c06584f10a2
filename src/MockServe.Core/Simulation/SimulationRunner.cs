using System.Globalization;

using MockServe.Core.Cluster;
using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Core.Workload;

namespace MockServe.Core.Simulation;

/// <summary>
/// Runs a synthetic multi-turn workload against the engine on a virtual clock: an hour of model time in
/// seconds of CPU. The same seed gives the same event trace. Several replicas (each its own engine and GPU group)
/// share the clock behind a router, which places every turn; a conversation whose turn lands on another replica
/// than its last one is forgotten by the last one (as its cache would evict it) and prefilled again where it lands.
/// With <see cref="ConversationMode.Resend"/> there are no sessions: each turn resends the conversation with prefix
/// hashes over synthetic token ids (<see cref="SyntheticTokens"/>), and only the prefix cache finds its history.
/// </summary>
public sealed class SimulationRunner : IEngineObserver
{
    private readonly WorkloadOptions _workload;
    private readonly VirtualClock _clock = new();
    private readonly Random _random;
    private readonly IEngineObserver? _trace;
    private readonly Replica[] _replicas;
    private readonly IRouter? _router;

    // Each user has at most one turn in flight, in its current session.
    // Keyed by session id, which in resend mode is the conversation's routing key (no request carries it).
    private readonly Dictionary<string, User> _bySession = new(StringComparer.Ordinal);

    // Resend mode: the user of each turn in flight, by request id, as its events carry no session.
    private readonly Dictionary<string, User> _byRequest = new(StringComparer.Ordinal);

    // Resend mode's token ids; null for sessions.
    private readonly SyntheticTokens? _synthetic;
    private readonly List<double> _ttft = [];
    private readonly List<double> _itl = [];
    private readonly List<double> _e2e = [];
    private readonly Dictionary<string, long> _cacheStates = NewCacheStates();
    private readonly long _maxTokens;
    private readonly long _maxPrompt;
    private long _completed;
    private long _rejected;
    private long _tokens;
    private long _prefillTokens;
    private long _cachedTokens;
    private long _switches;
    private double _swapBytes;
    private long _recomputed;
    private long _preemptions;
    private long _dropped;
    private long _evicted;
    private long _events;
    private long _steps;
    private double _runningSeconds;
    private double _waitingSeconds;
    private int _maxRunning;
    private double _prefillBusy;
    private double _decodeBusy;
    private double _swapBusy;
    private double _hbmUsedSeconds;
    private int _arrivals;

    public SimulationRunner(Deployment deployment, EngineOptions engineOptions, WorkloadOptions workload, IEngineObserver? trace = null)
        : this([deployment], engineOptions, workload, router: null, trace)
    {
    }

    /// <param name="replicas">One deployment per replica; more than one needs a router.</param>
    public SimulationRunner(IReadOnlyList<Deployment> replicas, EngineOptions engineOptions, WorkloadOptions workload, IRouter? router, IEngineObserver? trace = null)
    {
        var errors = workload.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(workload));
        }

        if (replicas.Count < 1 || (replicas.Count > 1 && router is null))
        {
            throw new ArgumentException($"--replicas: {replicas.Count} replicas need at least one, and a router for more than one", nameof(replicas));
        }

        _workload = workload;
        _random = new Random(workload.Seed);
        _trace = trace;
        _router = replicas.Count > 1 ? router : null;
        _replicas = new Replica[replicas.Count];
        for (int r = 0; r < replicas.Count; r++)
        {
            _replicas[r] = new Replica(this, r);
            _replicas[r].Engine = new InferenceEngine(replicas[r], engineOptions, _clock, _replicas[r]);
        }

        Engine = _replicas[0].Engine;
        _synthetic = workload.Conversation == ConversationMode.Resend ? new SyntheticTokens(workload.SharedPrefixTokens, engineOptions.BlockSize) : null;
        _maxTokens = _replicas.Min(r => Math.Min(r.Engine.CostModel.Deployment.Model.MaxContext, r.Engine.Limits.HbmCapacityTokens));
        // With distributions only the shortest context and output must fit: longer draws are cut to fit (DrawContext).
        _maxPrompt = _maxTokens - workload.MinOutputTokens;
        if (workload.MinContextTokens > _maxPrompt)
        {
            string contextText = workload.ContextLengths is { } c ? $"{c.Min} (the least of {c.Spec})" : $"{workload.ContextTokens}";
            string outputText = workload.OutputLengths is { } o ? $"{o.Min} (the least of {o.Spec})" : $"{workload.OutputTokens}";
            throw new ArgumentException(
                $"--context: {contextText} tokens plus {outputText} output tokens do not fit: the model's context is {Engine.CostModel.Deployment.Model.MaxContext} and the HBM left for KV holds {Engine.Limits.HbmCapacityTokens} tokens",
                nameof(workload));
        }

        if (workload.ArrivalRate > 0)
        {
            _clock.Schedule(NextArrivalGap(), _ => Arrive());
            return;
        }

        for (int i = 0; i < workload.Users; i++)
        {
            var user = new User(i);
            // Stagger the first turns over one think time so the users do not arrive in lockstep.
            double start = _random.NextDouble() * Math.Max(workload.ThinkTimeSeconds, 1e-3);
            _clock.Schedule(start, _ => StartTurn(user));
        }
    }

    public InferenceEngine Engine { get; }

    /// <summary>
    /// Called with each turn that counts in the results (finished, arrived after the warm-up), for measures the report
    /// does not keep, such as the turns that met an SLO. Not part of the event trace.
    /// </summary>
    public Action<RequestResult>? TurnMeasured { get; init; }

    /// <summary>Runs the whole duration, reporting progress (0..1) after each slice of model time.</summary>
    public SimulationReport Run(IProgress<double>? progress = null)
    {
        const int Slices = 100;
        for (int i = 1; i <= Slices; i++)
        {
            _clock.RunUntil(_workload.DurationSeconds * i / Slices);
            progress?.Report((double)i / Slices);
        }

        return Report();
    }

    public void OnEvent(in EngineEvent e)
    {
        _events++;
        _trace?.OnEvent(e);
        if (e.Kind == EngineEventKind.Finished)
        {
            OnFinished(e.Result!, e.SessionId is { } sessionId ? _bySession[sessionId] : Resent(e.Request!.RequestId));
            return;
        }

        if (e.Time < _workload.WarmupSeconds)
        {
            return;
        }

        switch (e.Kind)
        {
            case EngineEventKind.Token:
                _tokens++;
                break;
            case EngineEventKind.PrefillChunk:
                _prefillTokens += e.Count;
                break;
            case EngineEventKind.SwapOut:
            case EngineEventKind.SwapInStart:
                _switches++;
                _swapBytes += e.Bytes;
                break;
            case EngineEventKind.Preempted:
                _preemptions++;
                break;
            case EngineEventKind.Dropped:
                _dropped++;
                break;
            case EngineEventKind.SessionEvicted:
                _evicted++;
                break;
        }
    }

    public void OnStep(in StepSummary step) => OnStep(step, _replicas[0]);

    private void OnStep(in StepSummary step, Replica replica)
    {
        _steps++;
        _trace?.OnStep(step);
        if (step.Start < _workload.WarmupSeconds)
        {
            return;
        }

        double duration = step.End - step.Start;
        replica.RunningSeconds += step.Running * duration;
        _hbmUsedSeconds += replica.Engine.HbmKvUsedFraction * duration;
        _runningSeconds += step.Running * duration;
        _waitingSeconds += step.Waiting * duration;
        _maxRunning = Math.Max(_maxRunning, step.Running);
        _swapBusy += step.SwapSeconds;
        _prefillBusy += step.PrefillSeconds;
        _decodeBusy += step.DecodeSeconds;
    }

    private void OnFinished(RequestResult result, User user)
    {
        if (result.FinishReason != FinishReason.Cancelled && result.ArrivalTime >= _workload.WarmupSeconds)
        {
            _completed++;
            _ttft.Add(result.TimeToFirstToken);
            _e2e.Add(result.EndToEnd);
            if (result.CompletionTokens > 1)
            {
                _itl.Add(result.InterTokenLatency);
            }

            _cachedTokens += result.CachedTokens;
            TurnMeasured?.Invoke(result);
            _recomputed += result.RecomputedTokens;
            // A later turn that found no history where it landed lost it to routing (or to the session's expiry): a miss.
            var state = result.CacheState == CacheState.New && user.Turn > 0 ? CacheState.Miss : result.CacheState;
            string name = state.ToString().ToLowerInvariant();
            _cacheStates[name]++;
            var replica = _replicas[user.Replica];
            replica.Completed++;
            replica.CacheStates[name]++;
        }

        user.Prompt += result.CompletionTokens;
        user.Turn++;
        user.Output = 0;
        var session = user.SessionId;
        if (user.Turn >= _workload.Turns || user.Prompt + _workload.TurnTokens > _maxPrompt)
        {
            _bySession.Remove(session);
            if (_synthetic is null)
            {
                // The conversation is over: a client closes its session, which frees the KV at once.
                var engine = _replicas[user.Replica].Engine;
                _clock.Schedule(_clock.Now, _ => engine.CloseSession(session));
            }

            if (_workload.ArrivalRate > 0)
            {
                // Open loop: the user leaves; arrivals bring the next conversations.
                return;
            }

            user.NewConversation();
        }

        _clock.Schedule(_clock.Now + ThinkTime(), _ => StartTurn(user));
    }

    private void Arrive()
    {
        if (_clock.Now >= _workload.DurationSeconds)
        {
            return;
        }

        StartTurn(new User(_arrivals++));
        _clock.Schedule(_clock.Now + NextArrivalGap(), _ => Arrive());
    }

    /// <summary>Exponential gaps: Poisson arrivals at the workload's rate.</summary>
    private double NextArrivalGap() => -Math.Log(1 - _random.NextDouble()) / _workload.ArrivalRate;

    /// <summary>The replica of the user's next turn; moving away forgets the session where it was.</summary>
    private Replica Place(User user)
    {
        if (_router is null)
        {
            return _replicas[0];
        }

        int chosen = _router.Route(user.SessionId, _replicas);
        if (user.Turn > 0 && chosen != user.Replica && _synthetic is null)
        {
            _replicas[user.Replica].Engine.CloseSession(user.SessionId);
        }

        user.Replica = chosen;
        return _replicas[chosen];
    }

    private void StartTurn(User user)
    {
        if (_clock.Now >= _workload.DurationSeconds)
        {
            return;
        }

        if (user.Turn == 0 && user.FirstContext == 0)
        {
            // Drawn once per conversation: a refused first turn is sent again with the same context.
            user.FirstContext = DrawContext();
        }

        user.Prompt = user.Turn == 0 ? user.FirstContext : user.Prompt + _workload.TurnTokens;
        if (user.Output == 0)
        {
            user.Output = DrawOutput(user.Prompt);
        }

        var request = new InferenceRequest
        {
            RequestId = string.Create(CultureInfo.InvariantCulture, $"u{user.Index}-c{user.Conversation}-t{user.Turn}"),
            SessionId = user.SessionId,
            PromptTokens = user.Prompt,
            MaxTokens = user.Output,
        };
        if (_synthetic is { } synthetic)
        {
            request = Resend(request, user, synthetic);
        }

        _bySession[user.SessionId] = user;
        if (!Place(user).Engine.Submit(request).IsAccepted)
        {
            _byRequest.Remove(request.RequestId);
            // Refused (queue full, or a new session when every session held is busy): the client backs off for a
            // think time and sends the same turn again.
            _rejected++;
            user.Prompt = user.Turn == 0 ? 0 : user.Prompt - _workload.TurnTokens;
            _clock.Schedule(_clock.Now + ThinkTime(), _ => StartTurn(user));
        }
    }

    /// <summary>
    /// The turn as a client without a session sends it: the whole conversation, its prefix hashes continuing those of
    /// the last turn (which are a start of it: the last prompt, then the answer, then the new tokens), and a way to
    /// extend them over its answer, so that the answer's blocks stay cached for the next turn.
    /// </summary>
    private InferenceRequest Resend(InferenceRequest request, User user, SyntheticTokens synthetic)
    {
        var chain = user.Chain = synthetic.Extend(user.Chain, user.Key, user.Prompt);
        ulong key = user.Key;
        long prompt = user.Prompt;
        _byRequest[request.RequestId] = user;
        return request with
        {
            SessionId = null,
            PrefixHashes = chain,
            HashesWithOutput = generated => synthetic.Extend(chain, key, prompt + generated),
        };
    }

    private User Resent(string requestId)
    {
        _byRequest.Remove(requestId, out var user);
        return user!;
    }

    /// <summary>Tokens of the user's history the replica holds: its session's, or in resend mode its prefix cache's.</summary>
    private long CachedTokens(InferenceEngine engine, string sessionId)
    {
        if (_synthetic is null)
        {
            return engine.SessionTokens(sessionId);
        }

        return _bySession.TryGetValue(sessionId, out var user) ? engine.PrefixCachedTokens(user.Chain) : 0;
    }

    /// <summary>
    /// The first turn's prompt. A draw longer than fits beside the shortest output is cut to <c>_maxPrompt</c>, as a
    /// client trims a document to the model's window; without a distribution nothing is drawn, so a seed's trace
    /// stays as it was before distributions existed.
    /// </summary>
    private long DrawContext() =>
        _workload.ContextLengths is { } lengths ? Math.Min(lengths.Sample(_random), _maxPrompt) : _workload.ContextTokens;

    /// <summary>
    /// A turn's output tokens: a draw longer than the room left after <paramref name="prompt"/> is cut to it, as a
    /// server caps max_tokens at the context; the room is at least the shortest output (the later-turn check).
    /// </summary>
    private long DrawOutput(long prompt) =>
        _workload.OutputLengths is { } lengths ? Math.Min(lengths.Sample(_random), _maxTokens - prompt) : _workload.OutputTokens;

    private double ThinkTime() => _workload.ThinkTimeSeconds * (0.5 + _random.NextDouble());

    private SimulationReport Report()
    {
        double duration = _workload.DurationSeconds - _workload.WarmupSeconds;
        var deployment = Engine.CostModel.Deployment;
        long inFlight = 0;
        foreach (var replica in _replicas)
        {
            var snapshot = replica.Engine.Snapshot();
            inFlight += snapshot.Running + snapshot.Waiting + snapshot.SwappedRequests;
        }

        return new SimulationReport
        {
            Model = deployment.Model.Id,
            Gpu = deployment.Gpu.Id,
            TensorParallel = deployment.TensorParallel,
            Scheduler = Engine.SchedulerName,
            Router = _router?.Name,
            Workload = _workload,
            RequestsCompleted = _completed,
            RequestsRejected = _rejected,
            RequestsInFlight = inFlight,
            TokensGenerated = _tokens,
            PrefillTokens = _prefillTokens,
            CachedTokens = _cachedTokens,
            ContextSwitches = _switches,
            SwapBytes = _swapBytes,
            RecomputedTokens = _recomputed,
            Preemptions = _preemptions,
            SessionsDropped = _dropped,
            SessionsEvicted = _evicted,
            CacheStates = _cacheStates,
            // A distribution's median context stands for it here, as in capacity's Fit.
            MaxConcurrentUsers = _replicas.Sum(r => r.Engine.CostModel.MaxConcurrentUsers(
                _workload.ContextLengths is { } lengths ? LengthMedian.Of(lengths) : _workload.ContextTokens)),
            MeanRunning = _runningSeconds / duration,
            MaxRunning = _maxRunning,
            MeanWaiting = _waitingSeconds / duration,
            PrefillTokensPerSecond = _prefillTokens / duration,
            DecodeTokensPerSecond = _tokens / duration,
            ContextSwitchesPerSecond = _switches / duration,
            SwapBytesPerSecond = _swapBytes / duration,
            // Each replica is a GPU group of its own: busy shares are averaged over them.
            GpuBusy = new Dictionary<string, double>
            {
                ["prefill"] = _prefillBusy / duration / _replicas.Length,
                ["decode"] = _decodeBusy / duration / _replicas.Length,
                ["swap"] = _swapBusy / duration / _replicas.Length,
            },
            HbmKvUsed = _hbmUsedSeconds / duration / _replicas.Length,
            TtftSeconds = LatencySummary.From(_ttft),
            ItlSeconds = LatencySummary.From(_itl),
            E2eSeconds = LatencySummary.From(_e2e),
            Replicas = [.. _replicas.Select(r => new ReplicaReport(r.Index, r.Completed, r.CacheStates, r.RunningSeconds / duration))],
            Events = _events,
            Steps = _steps,
        };
    }

    private static Dictionary<string, long> NewCacheStates() => Enum.GetNames<CacheState>().ToDictionary(n => n.ToLowerInvariant(), _ => 0L);

    /// <summary>One engine of the cluster: what the router sees of it, and its own share of the results.</summary>
    private sealed class Replica(SimulationRunner runner, int index) : IReplicaView, IEngineObserver
    {
        public int Index { get; } = index;

        public InferenceEngine Engine { get; set; } = null!;

        public long Completed { get; set; }

        public Dictionary<string, long> CacheStates { get; } = NewCacheStates();

        public double RunningSeconds { get; set; }

        public int Running => Engine.RunningCount;

        public int Waiting => Engine.WaitingCount;

        public long CachedTokens(string sessionId) => runner.CachedTokens(Engine, sessionId);

        public void OnEvent(in EngineEvent e) => runner.OnEvent(e);

        public void OnStep(in StepSummary step) => runner.OnStep(step, this);
    }

    private sealed class User(int index)
    {
        public int Index { get; } = index;

        public int Conversation { get; private set; }

        public int Turn { get; set; }

        public long Prompt { get; set; }

        /// <summary>This conversation's first-turn prompt; 0 until drawn.</summary>
        public long FirstContext { get; set; }

        /// <summary>The output tokens of the turn in flight (kept if it is refused and sent again); 0 until drawn.</summary>
        public long Output { get; set; }

        /// <summary>The replica of the user's last turn.</summary>
        public int Replica { get; set; }

        public string SessionId { get; private set; } = string.Create(CultureInfo.InvariantCulture, $"u{index}-c0");

        /// <summary>Resend mode: the conversation's key for its token ids.</summary>
        public ulong Key => SyntheticTokens.Key(Index, Conversation);

        /// <summary>Resend mode: the block hashes of the last prompt sent (of the whole conversation so far).</summary>
        public ulong[] Chain { get; set; } = [];

        public void NewConversation()
        {
            Conversation++;
            Turn = 0;
            Prompt = 0;
            FirstContext = 0;
            Chain = [];
            SessionId = string.Create(CultureInfo.InvariantCulture, $"u{Index}-c{Conversation}");
        }
    }
}
