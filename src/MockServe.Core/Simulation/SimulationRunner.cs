using System.Globalization;

using MockServe.Core.Engine;
using MockServe.Core.Profiles;

namespace MockServe.Core.Simulation;

/// <summary>
/// Runs a synthetic multi-turn workload against the engine on a virtual clock: an hour of model time in
/// seconds of CPU. The same seed gives the same event trace.
/// </summary>
public sealed class SimulationRunner : IEngineObserver
{
    private readonly WorkloadOptions _workload;
    private readonly VirtualClock _clock = new();
    private readonly Random _random;
    private readonly IEngineObserver? _trace;
    private readonly User[] _users;

    // Each user has at most one turn in flight, in its current session.
    private readonly Dictionary<string, User> _bySession = new(StringComparer.Ordinal);
    private readonly List<double> _ttft = [];
    private readonly List<double> _itl = [];
    private readonly List<double> _e2e = [];
    private readonly Dictionary<string, long> _cacheStates = Enum.GetNames<CacheState>().ToDictionary(n => n.ToLowerInvariant(), _ => 0L);
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

    public SimulationRunner(Deployment deployment, EngineOptions engineOptions, WorkloadOptions workload, IEngineObserver? trace = null)
    {
        var errors = workload.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(workload));
        }

        _workload = workload;
        _random = new Random(workload.Seed);
        _trace = trace;
        Engine = new InferenceEngine(deployment, engineOptions, _clock, this);
        _maxPrompt = Math.Min(deployment.Model.MaxContext, Engine.Limits.HbmCapacityTokens) - workload.OutputTokens;
        if (workload.ContextTokens > _maxPrompt)
        {
            throw new ArgumentException(
                $"--context: {workload.ContextTokens} tokens plus {workload.OutputTokens} output tokens do not fit: the model's context is {deployment.Model.MaxContext} and the HBM left for KV holds {Engine.Limits.HbmCapacityTokens} tokens",
                nameof(workload));
        }

        _users = new User[workload.Users];
        for (int i = 0; i < _users.Length; i++)
        {
            var user = _users[i] = new User(i);
            // Stagger the first turns over one think time so the users do not arrive in lockstep.
            double start = _random.NextDouble() * Math.Max(workload.ThinkTimeSeconds, 1e-3);
            _clock.Schedule(start, _ => StartTurn(user));
        }
    }

    public InferenceEngine Engine { get; }

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
            case EngineEventKind.Finished:
                OnFinished(e.Result!, _bySession[e.SessionId!]);
                break;
        }
    }

    public void OnStep(in StepSummary step)
    {
        _steps++;
        _trace?.OnStep(step);
        double duration = step.End - step.Start;
        _runningSeconds += step.Running * duration;
        _waitingSeconds += step.Waiting * duration;
        _maxRunning = Math.Max(_maxRunning, step.Running);
        _swapBusy += step.SwapSeconds;
        _prefillBusy += step.PrefillSeconds;
        _decodeBusy += step.DecodeSeconds;
    }

    private void OnFinished(RequestResult result, User user)
    {
        if (result.FinishReason != FinishReason.Cancelled)
        {
            _completed++;
            _ttft.Add(result.TimeToFirstToken);
            _e2e.Add(result.EndToEnd);
            if (result.CompletionTokens > 1)
            {
                _itl.Add(result.InterTokenLatency);
            }

            _cachedTokens += result.CachedTokens;
            _recomputed += result.RecomputedTokens;
            _cacheStates[result.CacheState.ToString().ToLowerInvariant()]++;
        }

        user.Prompt += result.CompletionTokens;
        user.Turn++;
        var session = user.SessionId;
        if (user.Turn >= _workload.Turns || user.Prompt + _workload.TurnTokens > _maxPrompt)
        {
            _bySession.Remove(session);
            // The conversation is over: a client closes its session, which frees the KV at once.
            _clock.Schedule(_clock.Now, _ => Engine.CloseSession(session));
            user.NewConversation();
        }

        _clock.Schedule(_clock.Now + ThinkTime(), _ => StartTurn(user));
    }

    private void StartTurn(User user)
    {
        if (_clock.Now >= _workload.DurationSeconds)
        {
            return;
        }

        user.Prompt = user.Turn == 0 ? _workload.ContextTokens : user.Prompt + _workload.TurnTokens;
        var request = new InferenceRequest
        {
            RequestId = string.Create(CultureInfo.InvariantCulture, $"u{user.Index}-c{user.Conversation}-t{user.Turn}"),
            SessionId = user.SessionId,
            PromptTokens = user.Prompt,
            MaxTokens = _workload.OutputTokens,
        };
        _bySession[user.SessionId] = user;
        if (!Engine.Submit(request).IsAccepted)
        {
            // Refused (queue full, or a new session when every session held is busy): the client backs off for a
            // think time and sends the same turn again.
            _rejected++;
            user.Prompt = user.Turn == 0 ? 0 : user.Prompt - _workload.TurnTokens;
            _clock.Schedule(_clock.Now + ThinkTime(), _ => StartTurn(user));
        }
    }

    private double ThinkTime() => _workload.ThinkTimeSeconds * (0.5 + _random.NextDouble());

    private SimulationReport Report()
    {
        double duration = _workload.DurationSeconds;
        var deployment = Engine.CostModel.Deployment;
        var snapshot = Engine.Snapshot();
        return new SimulationReport
        {
            Model = deployment.Model.Id,
            Gpu = deployment.Gpu.Id,
            TensorParallel = deployment.TensorParallel,
            Scheduler = Engine.SchedulerName,
            Workload = _workload,
            RequestsCompleted = _completed,
            RequestsRejected = _rejected,
            RequestsInFlight = snapshot.Running + snapshot.Waiting + snapshot.SwappedRequests,
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
            MaxConcurrentUsers = Engine.CostModel.MaxConcurrentUsers(_workload.ContextTokens),
            MeanRunning = _runningSeconds / duration,
            MaxRunning = _maxRunning,
            MeanWaiting = _waitingSeconds / duration,
            PrefillTokensPerSecond = _prefillTokens / duration,
            DecodeTokensPerSecond = _tokens / duration,
            ContextSwitchesPerSecond = _switches / duration,
            SwapBytesPerSecond = _swapBytes / duration,
            GpuBusy = new Dictionary<string, double>
            {
                ["prefill"] = _prefillBusy / duration,
                ["decode"] = _decodeBusy / duration,
                ["swap"] = _swapBusy / duration,
            },
            TtftSeconds = LatencySummary.From(_ttft),
            ItlSeconds = LatencySummary.From(_itl),
            E2eSeconds = LatencySummary.From(_e2e),
            Events = _events,
            Steps = _steps,
        };
    }

    private sealed class User(int index)
    {
        public int Index { get; } = index;

        public int Conversation { get; private set; }

        public int Turn { get; set; }

        public long Prompt { get; set; }

        public string SessionId { get; private set; } = string.Create(CultureInfo.InvariantCulture, $"u{index}-c0");

        public void NewConversation()
        {
            Conversation++;
            Turn = 0;
            Prompt = 0;
            SessionId = string.Create(CultureInfo.InvariantCulture, $"u{Index}-c{Conversation}");
        }
    }
}
