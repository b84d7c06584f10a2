using MockServe.Core.Engine;
using MockServe.Core.Profiles;
using MockServe.Server.Hosting;

namespace MockServe.Server.Configuration;

/// <summary>
/// Every setting, once: its section and options property (hence its key and environment variable), its flag,
/// how its value is written and what it means. Flags, binding, validation messages and --help all come from
/// here; the defaults come from the options classes.
/// </summary>
public static class Settings
{
    public static SettingsSection<ServerOptions> Server { get; } = new SettingsSection<ServerOptions>("MockServe:Server", o => o.Validate())
        .Add(o => o.Port, "--port", SettingKind.Whole, "N", "gRPC port (h2c, or HTTP/2 over TLS), 0 to 65535.")
        .Add(o => o.MetricsPort, "--metrics-port", SettingKind.Whole, "N", "Port of Prometheus text at /metrics, 0 to 65535, not the gRPC port.")
        .Add(o => o.HttpPort, "--http-port", SettingKind.Whole, "N",
            "Port of the OpenAI-compatible HTTP API (HTTP/1.1 and HTTP/2: h2c by prior knowledge, or ALPN with TLS), 1 to 65535, or 0 for none; not the gRPC or metrics port.")
        .Add(o => o.BindAddress, "--bind", SettingKind.Text, "IP", "Address every port binds to.")
        .Add(o => o.ApiKeys, "--api-keys", SettingKind.List, "KEY|NAME:KEY",
            "API keys (a file or variable keeps them out of the process list); any key makes every call need 'authorization: Bearer KEY'.")
        .Add(o => o.ApiKeysFile, "--api-keys-file", SettingKind.Text, "FILE", "API keys, one KEY or NAME:KEY a line; '#' starts a comment line.")
        .Add(o => o.OpenEndpoints, "--open-endpoints", SettingKind.List, "health|reflection|metrics|none",
            "What needs no API key when keys are on.")
        .Add(o => o.TlsCertificate, "--tls-cert", SettingKind.Text, "FILE",
            "TLS on both ports with this certificate: PEM (chain, and key unless --tls-key) or PFX.")
        .Add(o => o.TlsKey, "--tls-key", SettingKind.Text, "FILE", "PEM private key of --tls-cert, when not in the certificate's file.")
        .Add(o => o.TlsPassword, "--tls-password", SettingKind.Text, "PASSWORD",
            "Password of a PFX --tls-cert or an encrypted key (a variable keeps it out of the process list).")
        .Add(o => o.TlsDevCertificate, "--tls-dev-cert", SettingKind.Switch, "",
            "TLS on both ports with a self-signed certificate for localhost, 127.0.0.1 and ::1, made at start.")
        .Add(o => o.TlsDevCertificateOut, "--tls-dev-cert-out", SettingKind.Text, "FILE",
            "Write the development certificate's public part (PEM) here for clients to trust.")
        .Add(o => o.Replicas, "--replicas", SettingKind.Whole, "N",
            $"Engines of the deployment behind this one endpoint, 1 to {ServerOptions.MaxReplicas}, each its own GPU group; with more than one every metric carries a replica label.")
        .Add(o => o.Router, "--router", SettingKind.Text, string.Join('|', Core.Cluster.Routers.Names),
            "How calls are placed on the replicas: round-robin, least-loaded (fewest running and waiting), session-affinity (a session stays on its replica while it has room) or prefix-aware (where the session's KV was left).")
        .Add(o => o.TimeScale, "--time-scale", SettingKind.Number, "F",
            "Wall seconds per model second, above 0 and at most 1000: 0.01 runs the modelled GPU 100 times faster than life.")
        .Add(o => o.DrainSeconds, "--drain", SettingKind.Duration, "DURATION", "Wall time streams in flight may take to finish at shutdown, at most 1h.")
        .Add(o => o.DefaultMaxTokens, "--default-max-tokens", SettingKind.Tokens, "TOKENS", "max_tokens of a request that does not set it.")
        .Add(o => o.Seed, "--seed", SettingKind.Whole, "S", "Seed of the pseudo-text, the modelled end-of-sequence and failure injection.")
        .Add(o => o.TokenText, "--token-text", SettingKind.Text, "pseudo|echo", "Generated text: pseudo (seeded words) or echo (the prompt's words).")
        .Add(o => o.Tokenizer, "--tokenizer", SettingKind.Text, "o200k|approx",
            "Counting text prompts: o200k (tiktoken's o200k_base) or approx (4 characters a token).")
        .Add(o => o.ReferenceContextTokens, "--reference-context", SettingKind.Tokens, "TOKENS",
            "Context length behind mockserve_max_concurrent_users and GetServerInfo's capacity.")
        .Add(o => o.VllmMetrics, "--vllm-metrics", SettingKind.Switch, "", "Also export vLLM's metric names (vllm:...).")
        .Add(o => o.TritonModelName, "--triton-model-name", SettingKind.Text, "NAME",
            "The model's name on the Triton / KServe v2 gRPC service; empty for the model profile's id.")
        .Add(o => o.LogRequests, "--log-requests", SettingKind.Switch, "", "Log one line per finished request with its timing breakdown.")
        .Add(o => o.Warmup, "--no-warmup", SettingKind.InverseSwitch, "",
            "Report ready at once, without calling the server first: the first requests then reach clients tens of ms late.")
        .Add(o => o.MaxReceiveMessageBytes, "--max-receive-message-bytes", SettingKind.Whole, "BYTES",
            "Largest request message, at least 4096 bytes; 1M tokens of text is about 4 MB.")
        .Add(o => o.MaxStreamsPerConnection, "--max-streams-per-connection", SettingKind.Whole, "N",
            "Concurrent HTTP/2 streams per client connection, 1 to 100000.")
        .Add(o => o.MaxPromptCharacters, "--max-prompt-chars", SettingKind.Whole, "N",
            "Longest text prompt in characters, refused before it is counted; at about 4 characters a token, raise it for contexts above 400K tokens.");

    public static SettingsSection<ProfileOptions> Profile { get; } = new SettingsSection<ProfileOptions>("MockServe:Profile", o => o.Validate())
        .Add(o => o.Model, "--model", SettingKind.Text, "ID|FILE",
            $"Model: a preset id ({string.Join(", ", Presets.Models.Select(m => m.Id))}) or a profile file (.json, .yaml, .yml).")
        .Add(o => o.Gpu, "--gpu", SettingKind.Text, "ID|FILE",
            $"GPU: a preset id ({string.Join(", ", Presets.Gpus.Select(g => g.Id))}) or a profile file (.json, .yaml, .yml).")
        .Add(o => o.TensorParallel, "--tp", SettingKind.Whole, "N", "Tensor-parallel degree, 1 to 64: GPUs the model is sharded over.",
            nullMeans: "the GPU profile's gpuCount")
        .Add(o => o.KvLayers, "--kv-layers", SettingKind.Number, "F", "Fraction of layers that keep a KV cache, in (0, 1].")
        .Add(o => o.KvHeads, "--kv-heads", SettingKind.Number, "F", "Fraction of KV heads kept, in (0, 1].")
        .Add(o => o.KvTokens, "--kv-tokens", SettingKind.Number, "F", "Fraction of tokens whose KV is kept, in (0, 1].")
        .Add(o => o.KvBits, "--kv-bits", SettingKind.Number, "B", "Bits per stored KV element, 1 to 32.",
            nullMeans: "the model's kvBytesPerElement x 8")
        .Add(o => o.WeightBits, "--weight-bits", SettingKind.Number, "B",
            "Bits per stored weight, 1 to 32: 16 (BF16), 8 (FP8: FP8 tensor cores where the GPU has them), 4 (AWQ/GPTQ, computed in BF16).",
            nullMeans: "the model's weightBytesPerParameter x 8")
        .Add(o => o.Efficiency, "--efficiency", SettingKind.Text, EfficiencyPresets.Names,
            "Efficiency set: peak (datasheet roofline, no host time), realistic (per GPU, from published measurements) or a file (mockserve calibrate writes one).")
        .Add(o => o.PrefillUtilization, "--prefill-util", SettingKind.Number, "F", "Fraction of peak FLOP/s a prefill reaches, in (0, 1].",
            nullMeans: "the efficiency set's")
        .Add(o => o.DecodeUtilization, "--decode-util", SettingKind.Number, "F", "Fraction of peak HBM bandwidth a decode step reaches, in (0, 1].",
            nullMeans: "the efficiency set's");

    public static SettingsSection<EngineOptions> Engine { get; } = new SettingsSection<EngineOptions>("MockServe:Engine", o => o.Validate())
        .Add(o => o.Scheduler, "--scheduler", SettingKind.Text, string.Join('|', SchedulingPolicies.Names),
            "Scheduling policy: chunked-prefill (decodes first, prompt chunks in the step budget) or prefill-first.")
        .Add(o => o.Preemption, "--preemption", SettingKind.Text, string.Join('|', PreemptionPolicies.Names),
            "What happens to a running sequence evicted for lack of HBM: swap (to host DDR) or recompute.")
        .Add(o => o.SwapEnabled, "--no-swap", SettingKind.InverseSwitch, "", "Drop idle sessions' KV under pressure instead of swapping it to host DDR.")
        .Add(o => o.PrefixCaching, "--no-prefix-caching", SettingKind.InverseSwitch, "", "Keep no prompt blocks cached for later prompts that start the same.")
        .Add(o => o.BlockSize, "--block-size", SettingKind.Tokens, "TOKENS", "Tokens per paged KV block, 1 to 1024.")
        .Add(o => o.MaxBatchedTokens, "--max-batched-tokens", SettingKind.Tokens, "TOKENS", "Token budget of one step (vLLM's max_num_batched_tokens).")
        .Add(o => o.MaxRunning, "--max-running", SettingKind.Whole, "N", "Sequences running at once (vLLM's max_num_seqs), 1 to 65536.")
        .Add(o => o.MaxWaiting, "--max-waiting", SettingKind.Whole, "N", "Requests that may wait for admission; one more is refused at once.")
        .Add(o => o.SessionTtlSeconds, "--session-ttl", SettingKind.Duration, "DURATION", "Model time an idle session's KV is kept.")
        .Add(o => o.MaxSessions, "--max-sessions", SettingKind.Whole, "N",
            "Sessions held at once, idle or busy, 1 to 10000000 (10,000 idle ones cost about 3 MB); a new one beyond it meets --session-limit-policy.")
        .Add(o => o.SessionLimitPolicy, "--session-limit-policy", SettingKind.Text, string.Join('|', SessionLimitPolicies.Names),
            "At --max-sessions: evict-lru (forget the least recently used idle session, freeing its KV) or refuse; with every session busy a new one is refused.");

    public static SettingsSection<FailureInjectionOptions> FailureInjection { get; } =
        new SettingsSection<FailureInjectionOptions>("MockServe:FailureInjection", o => o.Validate())
        .Add(o => o.Rate, "--failure-rate", SettingKind.Number, "F", "Fraction of requests that fail on purpose, 0 to 1.")
        .Add(o => o.Kinds, "--failure-kinds", SettingKind.List, "KIND",
            $"Failure kinds drawn from: {string.Join(", ", FailureKinds.All)} (refuse: UNAVAILABLE before start; abort: INTERNAL mid-stream; stall: a pause mid-stream).")
        .Add(o => o.StallSeconds, "--stall", SettingKind.Duration, "DURATION", "Model time an injected stall holds a stream.");

    /// <summary>Every section, in the order --help lists them.</summary>
    public static IReadOnlyList<SettingsSection> All { get; } = [Server, Profile, Engine, FailureInjection];

    /// <summary>Registers <paramref name="sections"/>: binding from <see cref="IConfiguration"/>, validator, ValidateOnStart.</summary>
    public static IServiceCollection AddTo(IServiceCollection services, IEnumerable<SettingsSection> sections)
    {
        ArgumentNullException.ThrowIfNull(sections);
        foreach (var section in sections)
        {
            section.AddTo(services);
        }

        return services;
    }
}
