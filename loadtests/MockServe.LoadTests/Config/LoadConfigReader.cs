using System.Globalization;

using MockServe.LoadTests.Measurement;
using MockServe.LoadTests.Simulations;
using MockServe.LoadTests.Workload;
using MockServe.Server.Configuration;

namespace MockServe.LoadTests.Config;

/// <summary>
/// Reads a scenario file (YAML or JSON, by extension) or the run's flags into a <see cref="LoadConfig"/>. Every bad
/// value is a problem naming its key path (or flag), the value and what is allowed; an unknown key is refused by name,
/// so a typo never silently falls back to a default. Nothing is started: the caller runs only when no problem is left.
/// </summary>
public static class LoadConfigReader
{
    internal static readonly string[] RunKeys =
        ["target", "duration", "seed", "report-dir", "slo", "time-scale", "scenario", "users", "rate", "workload", "max-in-flight", "overflow", "scenarios"];

    internal static readonly string[] WorkloadKeys =
        ["context", "message", "output", "turns", "think-time", "shared-prefix", "context-limit", "context-policy", "prompt-format", "ignore-eos", "trace", "trace-time-scale"];

    internal static readonly string[] ScenarioKeys = ["name", "builtin", "workload", "load", "slo", "max-in-flight", "overflow"];

    /// <summary>Each load kind and its keys (interval is optional, 1s).</summary>
    internal static readonly IReadOnlyDictionary<string, string[]> LoadKinds = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["keep-constant"] = ["copies", "during"],
        ["ramping-constant"] = ["copies", "during"],
        ["inject"] = ["rate", "interval", "during"],
        ["ramping-inject"] = ["rate", "interval", "during"],
        ["inject-random"] = ["min-rate", "max-rate", "interval", "during"],
        ["iterations-for-constant"] = ["copies", "iterations"],
        ["iterations-for-inject"] = ["rate", "interval", "iterations"],
        ["pause"] = ["during"],
        ["inject-poisson"] = ["rate", "during"],
        ["inject-gamma"] = ["rate", "burstiness", "during"],
    };

    /// <summary>Reads the file at <paramref name="path"/>; relative paths inside it are taken from its folder.</summary>
    public static LoadConfig Read(string path, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(problems);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            problems.Add($"--config: cannot read {path} ({e.Message})");
            return new LoadConfig();
        }

        string extension = Path.GetExtension(path).ToLowerInvariant();
        return Parse(text, extension is ".yaml" or ".yml", Path.GetDirectoryName(Path.GetFullPath(path)), path, problems);
    }

    /// <summary>Reads scenario-file text; <paramref name="source"/> names it in syntax errors.</summary>
    public static LoadConfig Parse(string text, bool yaml, string? baseDirectory, string source, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(problems);
        ConfigNode root;
        try
        {
            root = ConfigNode.Parse(text, yaml, source);
        }
        catch (FormatException e)
        {
            problems.Add(e.Message);
            return new LoadConfig();
        }

        if (root is not ConfigMap map)
        {
            problems.Add($"{source}: the file must be a map of keys ({string.Join(", ", RunKeys)}), not {root.Kind}");
            return new LoadConfig();
        }

        return ReadRun(new Reader(problems), map, baseDirectory);
    }

    /// <summary>
    /// Reads flags given as key and text (<c>("think-time", "fixed:2s")</c>), each problem naming <c>--key</c>.
    /// Workload keys may be given flat: they go to the run's workload.
    /// </summary>
    public static LoadConfig ReadFlags(IEnumerable<KeyValuePair<string, string>> flags, List<string> problems)
    {
        ArgumentNullException.ThrowIfNull(flags);
        var run = new List<KeyValuePair<string, ConfigNode>>();
        var workload = new List<KeyValuePair<string, ConfigNode>>();
        foreach (var (key, value) in flags)
        {
            (WorkloadKeys.Contains(key) ? workload : run).Add(new(key, new ConfigScalar("--" + key, value)));
        }

        if (workload.Count > 0)
        {
            run.Add(new("workload", new ConfigMap("--", workload)));
        }

        return ReadRun(new Reader(problems), new ConfigMap("", run), baseDirectory: null);
    }

    private static LoadConfig ReadRun(Reader r, ConfigMap map, string? baseDirectory)
    {
        var f = r.Fields(map, RunKeys);
        var config = new LoadConfig
        {
            Target = f.Value("target", r.Target),
            Duration = f.Value("duration", r.Duration),
            Seed = f.Value("seed", n => r.Int(n, int.MinValue, int.MaxValue, "a whole number")),
            ReportDir = f.Value("report-dir", r.Text),
            Slo = f.Value("slo", r.Slo),
            TimeScale = f.Value("time-scale", n => r.Double(n, 0, 1000, "above 0 and at most 1000")),
            Scenario = f.Value("scenario", r.Text),
            Users = f.Value("users", n => r.Int(n, 1, 100_000, "1 to 100000")),
            Rate = f.Value("rate", n => r.Double(n, 0, 100_000, "above 0 and at most 100000")),
            Workload = f.Map("workload", m => ReadWorkload(r, m, baseDirectory)) ?? WorkloadOverrides.None,
            MaxInFlight = f.Value("max-in-flight", r.MaxInFlight),
            Overflow = f.Value("overflow", r.Overflow),
            Scenarios = f.List("scenarios", list => ReadScenarios(r, list, baseDirectory)) ?? [],
            BaseDirectory = baseDirectory,
        };
        return config;
    }

    private static WorkloadOverrides ReadWorkload(Reader r, ConfigMap map, string? baseDirectory)
    {
        var f = r.Fields(map, WorkloadKeys);
        var workload = new WorkloadOverrides
        {
            Context = f.Value("context", r.Text),
            Message = f.Value("message", r.Text),
            Output = f.Value("output", r.Text),
            Turns = f.Value("turns", r.Text),
            ThinkTime = f.Value("think-time", r.Text),
            SharedPrefix = f.Value("shared-prefix", n => r.Tokens(n, 0)),
            ContextLimit = f.Value("context-limit", n => r.Tokens(n, 2)),
            ContextPolicy = f.Value("context-policy", n => r.Choice(n, ("slide", ContextOverflowPolicy.Slide), ("truncate", ContextOverflowPolicy.Truncate), ("end", ContextOverflowPolicy.End))),
            TextPrompts = f.Value("prompt-format", n => r.Choice(n, ("tokens", false), ("text", true))),
            IgnoreEos = f.Value("ignore-eos", r.Bool),
            Trace = f.Value("trace", r.Text),
            TraceTimeScale = f.Value("trace-time-scale", n => r.Double(n, 0, 1e6, "above 0 and at most 1000000")),
        };

        // The length and think-time specs, the limit against the prefix, the trace file: WorkloadOptions' own checks,
        // each error naming this map's key (a flag's prefix is "--", a file's is the map's path and a dot).
        // A value refused above is unset here, so it is not named twice.
        string prefix = map.Path == "--" ? "--" : map.Path + ".";
        r.Problems.AddRange(workload.Validate(prefix, baseDirectory));

        return workload;
    }

    private static List<ScenarioConfig> ReadScenarios(Reader r, ConfigList list, string? baseDirectory)
    {
        var scenarios = new List<ScenarioConfig>();
        foreach (var item in list.Items)
        {
            if (item is not ConfigMap map)
            {
                r.Problems.Add($"{item.Path} is {item.Kind}: a scenario is a map of {string.Join(", ", ScenarioKeys)}");
                continue;
            }

            var f = r.Fields(map, ScenarioKeys);
            string? name = f.Value("name", r.Text);
            if (name is null && !f.Has("name"))
            {
                r.Problems.Add($"{ConfigNode.Child(map.Path, "name")} is missing: every scenario needs a name of its own");
            }
            else if (name is not null && scenarios.Any(s => s.Name == name))
            {
                r.Problems.Add($"{ConfigNode.Child(map.Path, "name")} is \"{name}\": another scenario has that name; each needs its own");
            }

            var scenario = new ScenarioConfig(name ?? "", map.Path)
            {
                Builtin = f.Value("builtin", r.Text),
                Workload = f.Map("workload", m => ReadWorkload(r, m, baseDirectory)) ?? WorkloadOverrides.None,
                Load = f.List("load", l => ReadLoad(r, l)),
                Slo = f.Value("slo", r.Slo),
                MaxInFlight = f.Value("max-in-flight", r.MaxInFlight),
                Overflow = f.Value("overflow", r.Overflow),
            };
            if (scenario.Builtin is null && scenario.Load is null && !f.Has("load"))
            {
                r.Problems.Add($"{ConfigNode.Child(map.Path, "load")} is missing: a scenario without a builtin needs its load simulations");
            }

            scenarios.Add(scenario);
        }

        if (list.Items.Count == 0)
        {
            r.Problems.Add($"{list.Path} is empty: list at least one scenario, or leave the key out");
        }

        return scenarios;
    }

    private static List<LoadStep> ReadLoad(Reader r, ConfigList list)
    {
        var steps = new List<LoadStep>();
        if (list.Items.Count == 0)
        {
            r.Problems.Add($"{list.Path} is empty: give at least one load simulation");
        }

        foreach (var item in list.Items)
        {
            if (item is not ConfigMap map)
            {
                r.Problems.Add($"{item.Path} is {item.Kind}: a load simulation is a map such as {{ kind: keep-constant, copies: 4, during: 60s }}");
                continue;
            }

            string kindPath = ConfigNode.Child(map.Path, "kind");
            var kindNode = map.Entries.FirstOrDefault(e => e.Key == "kind").Value;
            string? kind = kindNode is null ? null : r.Text(kindNode);
            if (kind is null || !LoadKinds.TryGetValue(kind, out var keys))
            {
                if (kindNode is null)
                {
                    r.Problems.Add($"{kindPath} is missing: one of {string.Join(", ", LoadKinds.Keys)}");
                }
                else if (kind is not null)
                {
                    r.Problems.Add($"{kindPath} is \"{kind}\": expected one of {string.Join(", ", LoadKinds.Keys)}");
                }

                continue;
            }

            var f = r.Fields(map, ["kind", .. keys]);
            if (keys.Where(k => k != "interval").FirstOrDefault(k => !f.Has(k)) is { } missing)
            {
                r.Problems.Add($"{ConfigNode.Child(map.Path, missing)} is missing: {kind} takes {string.Join(", ", keys)}{(keys.Contains("interval") ? " (interval defaults to 1s)" : "")}");
                continue;
            }

            // The numbers as written; the factory checks their ranges (one set of limits for code and files alike).
            int copies = f.Value("copies", n => r.Int(n, int.MinValue, int.MaxValue, "a whole number")) ?? 0;
            double rate = f.Value("rate", r.Number) ?? 0;
            double minRate = f.Value("min-rate", r.Number) ?? 0;
            double maxRate = f.Value("max-rate", r.Number) ?? 0;
            double burstiness = f.Value("burstiness", r.Number) ?? 0;
            long iterations = f.Value("iterations", n => r.Long(n)) ?? 0;
            var interval = f.Value("interval", r.AnyDuration) ?? TimeSpan.FromSeconds(1);
            var during = f.Value("during", r.AnyDuration) ?? TimeSpan.Zero;
            if (r.Problems.Count > f.ProblemsBefore)
            {
                continue;
            }

            try
            {
                var simulation = kind switch
                {
                    "keep-constant" => Simulation.KeepConstant(copies, during),
                    "ramping-constant" => Simulation.RampingConstant(copies, during),
                    "inject" => Simulation.Inject(rate, interval, during),
                    "ramping-inject" => Simulation.RampingInject(rate, interval, during),
                    "inject-random" => Simulation.InjectRandom(minRate, maxRate, interval, during),
                    "iterations-for-constant" => Simulation.IterationsForConstant(copies, iterations),
                    "iterations-for-inject" => Simulation.IterationsForInject(rate, interval, iterations),
                    "pause" => Simulation.Pause(during),
                    "inject-poisson" => Simulation.InjectPoisson(rate, during),
                    _ => Simulation.InjectGamma(rate, burstiness, during),
                };
                steps.Add(new LoadStep(kind, map.Path, simulation));
            }
            catch (InvalidLoadSimulationException e)
            {
                string key = e.ParamName switch
                {
                    "ratePerSecond" => "rate",
                    "minRate" => "min-rate",
                    "maxRate" => "max-rate",
                    { } other => other,
                    null => "kind",
                };
                var node = map.Entries.FirstOrDefault(p => p.Key == key).Value as ConfigScalar;
                r.Problems.Add($"{ConfigNode.Child(map.Path, key)} is {node?.ToString() ?? "unset"}: {kind}'s {key} must be {e.Allowed}");
            }
        }

        return steps;
    }

    /// <summary>Reads values, adding a problem for each bad one (returning null for it).</summary>
    private sealed class Reader(List<string> problems)
    {
        public List<string> Problems { get; } = problems;

        public Fields Fields(ConfigMap map, string[] allowed) => new(this, map, allowed);

        private ConfigScalar? Scalar(ConfigNode node, string expected)
        {
            if (node is ConfigScalar { Value: not null } scalar)
            {
                return scalar;
            }

            Problems.Add($"{node.Path} is {(node is ConfigScalar ? "null" : node.Kind)}: expected {expected}");
            return null;
        }

        private T? Bad<T>(ConfigScalar scalar, string allowed)
        {
            Problems.Add($"{scalar.Path} is {scalar}: {allowed}");
            return default;
        }

        public string? Text(ConfigNode node) =>
            Scalar(node, "a text value") is { } s ? (s.Value!.Trim().Length > 0 ? s.Value.Trim() : Bad<string>(s, "must not be empty")) : null;

        public Uri? Target(ConfigNode node) =>
            Scalar(node, "an address") is { } s
                ? Uri.TryCreate(s.Value!.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https" ? uri : Bad<Uri>(s, "expected an address such as http://127.0.0.1:50051")
                : null;

        public TimeSpan? Duration(ConfigNode node) =>
            Scalar(node, "a duration") is { } s
                ? SettingText.TryParseDuration(s.Value!, out double seconds) && seconds > 0 && seconds <= 7 * 86_400
                    ? TimeSpan.FromSeconds(seconds)
                    : Bad<TimeSpan?>(s, "expected a duration above 0 and at most 7 days, such as 30s, 5m or 1h")
                : null;

        /// <summary>A load step's duration: any well-formed one; the simulation's factory checks the range.</summary>
        public TimeSpan? AnyDuration(ConfigNode node) =>
            Scalar(node, "a duration") is { } s
                ? SettingText.TryParseDuration(s.Value!, out double seconds) && seconds < TimeSpan.MaxValue.TotalSeconds
                    ? TimeSpan.FromSeconds(seconds)
                    : Bad<TimeSpan?>(s, "expected a duration such as 500ms, 30s, 5m or 1h")
                : null;

        public int? Int(ConfigNode node, int min, int max, string allowed) =>
            Scalar(node, "a whole number") is { } s
                ? int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) && v >= min && v <= max ? v : Bad<int?>(s, $"must be {allowed}")
                : null;

        public long? Long(ConfigNode node) =>
            Scalar(node, "a whole number") is { } s
                ? long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v) ? v : Bad<long?>(s, "must be a whole number")
                : null;

        public long? Tokens(ConfigNode node, long min) =>
            Scalar(node, "a token count") is { } s
                ? SettingText.TryParseTokenCount(s.Value!, out long v) && v >= min ? v : Bad<long?>(s, $"must be a whole number of tokens of at least {min} (50000, 50k or 1.5M)")
                : null;

        /// <summary>Above <paramref name="above"/> and at most <paramref name="max"/>.</summary>
        public double? Double(ConfigNode node, double above, double max, string allowed) =>
            Scalar(node, "a number") is { } s
                ? double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > above && v <= max ? v : Bad<double?>(s, $"must be {allowed}")
                : null;

        /// <summary>Any finite number: the factory that takes it checks its range.</summary>
        public double? Number(ConfigNode node) =>
            Scalar(node, "a number") is { } s
                ? double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v) ? v : Bad<double?>(s, "must be a number")
                : null;

        public bool? Bool(ConfigNode node) =>
            Scalar(node, "true or false") is { } s
                ? s.Value!.Trim().ToLowerInvariant() switch { "true" => true, "false" => false, _ => Bad<bool?>(s, "must be true or false") }
                : null;

        public T? Choice<T>(ConfigNode node, params (string Name, T Value)[] choices)
            where T : struct
        {
            string allowed = string.Join(", ", choices.Select(c => c.Name));
            if (Scalar(node, $"one of {allowed}") is not { } s)
            {
                return null;
            }

            foreach (var (name, value) in choices)
            {
                if (string.Equals(name, s.Value!.Trim(), StringComparison.OrdinalIgnoreCase))
                {
                    return value;
                }
            }

            return Bad<T?>(s, $"expected one of {allowed}");
        }

        public SloSet? Slo(ConfigNode node) =>
            Scalar(node, "thresholds such as ttft-p99=5s,error-rate=1%") is { } s
                ? SloSet.TryParse(s.Value!, out var set, out string? error) ? set : Bad<SloSet>(s, error!)
                : null;

        public int? MaxInFlight(ConfigNode node)
        {
            int? cap = Int(node, int.MinValue, int.MaxValue, "a whole number");
            if (cap is { } c && new DriverOptions { MaxInFlight = c }.Validate() is [{ } error, ..])
            {
                Problems.Add($"{node.Path} is \"{c}\": {error}");
                return null;
            }

            return cap;
        }

        public OverflowPolicy? Overflow(ConfigNode node) => Choice(node, ("queue", OverflowPolicy.Queue), ("drop", OverflowPolicy.Drop));
    }

    /// <summary>A map's entries by key: unknown and repeated keys are refused when it is made.</summary>
    private sealed class Fields
    {
        private readonly Reader _reader;
        private readonly Dictionary<string, ConfigNode> _entries = new(StringComparer.Ordinal);

        public Fields(Reader reader, ConfigMap map, string[] allowed)
        {
            _reader = reader;
            ProblemsBefore = reader.Problems.Count;
            foreach (var (key, node) in map.Entries)
            {
                if (!allowed.Contains(key))
                {
                    reader.Problems.Add($"{ConfigNode.Child(map.Path, key)}: unknown key \"{key}\"; expected one of {string.Join(", ", allowed)}");
                }
                else if (!_entries.TryAdd(key, node))
                {
                    reader.Problems.Add($"{ConfigNode.Child(map.Path, key)}: the key is given twice");
                }
            }
        }

        /// <summary>Problems before this map was read: more after it means one of its values was bad.</summary>
        public int ProblemsBefore { get; }

        public bool Has(string key) => _entries.ContainsKey(key);

        public T? Value<T>(string key, Func<ConfigNode, T?> read) => _entries.TryGetValue(key, out var node) ? read(node) : default;

        public T? Map<T>(string key, Func<ConfigMap, T> read)
            where T : class =>
            _entries.TryGetValue(key, out var node) ? node is ConfigMap map ? read(map) : Wrong<T>(node, "a map") : null;

        public T? List<T>(string key, Func<ConfigList, T> read)
            where T : class =>
            _entries.TryGetValue(key, out var node) ? node is ConfigList list ? read(list) : Wrong<T>(node, "a list") : null;

        private T? Wrong<T>(ConfigNode node, string expected)
            where T : class
        {
            _reader.Problems.Add($"{node.Path} is {node.Kind}: expected {expected}");
            return null;
        }
    }
}
