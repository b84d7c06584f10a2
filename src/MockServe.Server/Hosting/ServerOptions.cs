using System.Net;

using MockServe.Core.Cluster;
using MockServe.Core.Profiles;

namespace MockServe.Server.Hosting;

/// <summary>
/// Section <c>MockServe:Server</c>: endpoints, time scale and how requests become tokens. The defaults are here
/// and only here; Configuration/Settings.cs gives each property its flag.
/// </summary>
public sealed class ServerOptions
{
    /// <summary>The most replicas one process serves: each is an engine thread, and the machine has few cores.</summary>
    public const int MaxReplicas = 64;

    /// <summary>gRPC port: h2c, or HTTP/2 over TLS when TLS is on.</summary>
    public int Port { get; set; } = 50051;

    /// <summary>Prometheus text at http://BIND:PORT/metrics (https when TLS is on).</summary>
    public int MetricsPort { get; set; } = 9464;

    /// <summary>
    /// OpenAI-compatible HTTP (HTTP/1.1; HTTP/1.1 and HTTP/2 over TLS when TLS is on): /v1/models,
    /// /v1/completions, /v1/chat/completions, /tokenize, /health and /metrics. 0 turns it off: vLLM's port 8000 is
    /// often taken on a developer's machine, and the gRPC faces need none of it.
    /// </summary>
    public int HttpPort { get; set; } = 8000;

    /// <summary>Address every port binds to; loopback unless set.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// API keys (KEY or NAME:KEY, the name being the client's identity); with any key (here or in
    /// <see cref="ApiKeysFile"/>) every call outside <see cref="OpenEndpoints"/> needs <c>authorization: Bearer KEY</c>.
    /// </summary>
    public List<string> ApiKeys { get; set; } = [];

    /// <summary>A file of API keys, one KEY or NAME:KEY a line; blank lines and lines starting with '#' are skipped.</summary>
    public string ApiKeysFile { get; set; } = "";

    /// <summary>What stays open without a key when keys are on: health, reflection, metrics, or none.</summary>
    public List<string> OpenEndpoints { get; set; } = ["health"];

    /// <summary>TLS on both ports with this certificate: PEM (chain, and key unless <see cref="TlsKey"/>) or PFX.</summary>
    public string TlsCertificate { get; set; } = "";

    /// <summary>PEM private key of <see cref="TlsCertificate"/>, when it is not in the certificate's file.</summary>
    public string TlsKey { get; set; } = "";

    /// <summary>Password of a PFX <see cref="TlsCertificate"/> or of an encrypted PEM key.</summary>
    public string TlsPassword { get; set; } = "";

    /// <summary>TLS on both ports with a self-signed certificate for localhost, 127.0.0.1 and ::1, made at start.</summary>
    public bool TlsDevCertificate { get; set; }

    /// <summary>Where to write the development certificate's public part (PEM) for clients to trust.</summary>
    public string TlsDevCertificateOut { get; set; } = "";

    /// <summary>
    /// Engines of the deployment behind the one endpoint, each its own GPU group with its own metrics (labelled
    /// <c>replica</c> when there are several).
    /// </summary>
    public int Replicas { get; set; } = 1;

    /// <summary>How calls are placed on the replicas: one of <see cref="Routers.Names"/>.</summary>
    public string Router { get; set; } = "round-robin";

    /// <summary>Wall seconds per model second: 0.01 runs the modelled GPU 100 times faster than life.</summary>
    public double TimeScale { get; set; } = 1.0;

    /// <summary>Wall seconds that streams in flight may take to finish after shutdown begins.</summary>
    public double DrainSeconds { get; set; } = 30;

    /// <summary>max_tokens of a request that does not set it.</summary>
    public long DefaultMaxTokens { get; set; } = 256;

    /// <summary>Seed of the pseudo-text, the modelled end-of-sequence and failure injection.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>Token text: pseudo (seeded words) or echo (the prompt's words again).</summary>
    public string TokenText { get; set; } = "pseudo";

    /// <summary>Counting text prompts: o200k (tiktoken's o200k_base) or approx (4 characters a token).</summary>
    public string Tokenizer { get; set; } = "o200k";

    /// <summary>Context length behind mockserve_max_concurrent_users and GetServerInfo's capacity.</summary>
    public long ReferenceContextTokens { get; set; } = 50_000;

    /// <summary>Also export vLLM's metric names (vllm:...) so vLLM dashboards and autoscalers work unchanged.</summary>
    public bool VllmMetrics { get; set; }

    /// <summary>
    /// The model's name on the Triton / KServe v2 service (inference.GRPCInferenceService); empty for the model
    /// profile's id. Triton clients name the model in every call, so this is what they must be given.
    /// </summary>
    public string TritonModelName { get; set; } = "";

    /// <summary>
    /// Log one line per finished request with its timing breakdown. Off by default, as vLLM's request log is: under
    /// load the console costs more than a tenth of the server's CPU.
    /// </summary>
    public bool LogRequests { get; set; }

    /// <summary>
    /// Call the server over loopback before readiness reports SERVING, so the first request does not pay for
    /// compiling the serving path (tens of milliseconds late otherwise).
    /// </summary>
    public bool Warmup { get; set; } = true;

    /// <summary>Largest request message in bytes; 1M tokens of text is about 4 MB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Concurrent HTTP/2 streams per client connection (Kestrel's default is 100).</summary>
    public int MaxStreamsPerConnection { get; set; } = 1000;

    /// <summary>
    /// Longest text prompt in characters (UTF-16 code units), refused before it is counted. 2,000,000 is 2.5 times the
    /// ~800,000 characters of English (about 4 a token) that fill the largest preset context, Yi-34B's 200K tokens:
    /// a prompt that long fits no preset unless it averages over 10 characters a token. Counting stops at the
    /// model's context, but runs of many characters a token (whitespace: 128) reach the cap first; at the cap they
    /// cost about a CPU-second.
    /// </summary>
    public int MaxPromptCharacters { get; set; } = 2_000_000;

    public IReadOnlyList<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        if (Port is < 0 or > 65535)
        {
            errors.Add(new SettingError(nameof(Port), $"must be 0 to 65535, got {Port}"));
        }

        if (MetricsPort is < 0 or > 65535 || (MetricsPort == Port && Port != 0))
        {
            errors.Add(new SettingError(nameof(MetricsPort), $"must be 0 to 65535 and differ from the gRPC port {Port}, got {MetricsPort}"));
        }

        if (HttpPort is < 0 or > 65535 || (HttpPort != 0 && (HttpPort == Port || HttpPort == MetricsPort)))
        {
            errors.Add(new SettingError(nameof(HttpPort), $"must be 0 (off) to 65535 and differ from the gRPC port {Port} and the metrics port {MetricsPort}, got {HttpPort}"));
        }

        if (!IPAddress.TryParse(BindAddress, out _))
        {
            errors.Add(new SettingError(nameof(BindAddress), $"must be an IP address such as 127.0.0.1 or ::1, got '{BindAddress}'"));
        }

        errors.AddRange(Security.ApiKeyList.Validate(this));
        errors.AddRange(Security.OpenEndpoints.Validate(this));
        errors.AddRange(Security.ServerTls.Validate(this));

        if (Replicas is < 1 or > MaxReplicas)
        {
            errors.Add(new SettingError(nameof(Replicas), $"must be 1 to {MaxReplicas}, got {Replicas}"));
        }

        if (!Routers.Names.Contains(Router))
        {
            errors.Add(new SettingError(nameof(Router), $"unknown router '{Router}', expected one of {string.Join(", ", Routers.Names)}"));
        }

        if (!(TimeScale > 0 && TimeScale <= 1000))
        {
            errors.Add(new SettingError(nameof(TimeScale), $"must be more than 0 and at most 1000, got {TimeScale}"));
        }

        if (!(DrainSeconds >= 0 && DrainSeconds <= 3600))
        {
            errors.Add(new SettingError(nameof(DrainSeconds), $"must be 0 to 3600, got {DrainSeconds}"));
        }

        if (DefaultMaxTokens < 1)
        {
            errors.Add(new SettingError(nameof(DefaultMaxTokens), $"must be at least 1, got {DefaultMaxTokens}"));
        }

        if (TokenText is not ("pseudo" or "echo"))
        {
            errors.Add(new SettingError(nameof(TokenText), $"must be pseudo or echo, got '{TokenText}'"));
        }

        if (Tokenizer is not ("o200k" or "approx"))
        {
            errors.Add(new SettingError(nameof(Tokenizer), $"must be o200k or approx, got '{Tokenizer}'"));
        }

        if (ReferenceContextTokens < 1)
        {
            errors.Add(new SettingError(nameof(ReferenceContextTokens), $"must be at least 1, got {ReferenceContextTokens}"));
        }

        if (MaxReceiveMessageBytes < 4096)
        {
            errors.Add(new SettingError(nameof(MaxReceiveMessageBytes), $"must be at least 4096, got {MaxReceiveMessageBytes}"));
        }

        if (MaxStreamsPerConnection is < 1 or > 100_000)
        {
            errors.Add(new SettingError(nameof(MaxStreamsPerConnection), $"must be 1 to 100000, got {MaxStreamsPerConnection}"));
        }

        if (MaxPromptCharacters < 1)
        {
            errors.Add(new SettingError(nameof(MaxPromptCharacters), $"must be at least 1, got {MaxPromptCharacters}"));
        }

        return errors;
    }
}

/// <summary>Section <c>MockServe:FailureInjection</c>: failures for client resilience tests, off by default.</summary>
public sealed class FailureInjectionOptions
{
    /// <summary>Request metadata key that forces one failure kind on that request.</summary>
    public const string MetadataKey = "x-mockserve-fail";

    /// <summary>Fraction of requests that fail, 0 to 1.</summary>
    public double Rate { get; set; }

    /// <summary>Kinds drawn from: refuse (UNAVAILABLE before start), abort (INTERNAL mid-stream), stall (a pause mid-stream).</summary>
    public List<string> Kinds { get; set; } = [FailureKinds.Refuse, FailureKinds.Abort, FailureKinds.Stall];

    /// <summary>Model seconds a stall holds the stream.</summary>
    public double StallSeconds { get; set; } = 10;

    public IReadOnlyList<SettingError> Validate()
    {
        var errors = new List<SettingError>();
        if (!(Rate >= 0 && Rate <= 1))
        {
            errors.Add(new SettingError(nameof(Rate), $"must be 0 to 1, got {Rate}"));
        }

        foreach (string kind in Kinds.Where(k => !FailureKinds.All.Contains(k)))
        {
            errors.Add(new SettingError(nameof(Kinds), $"unknown kind '{kind}', expected {string.Join(", ", FailureKinds.All)}"));
        }

        if (Rate > 0 && Kinds.Count == 0)
        {
            errors.Add(new SettingError(nameof(Kinds), "must name at least one kind when the failure rate is above 0"));
        }

        if (!(StallSeconds >= 0 && StallSeconds <= 86_400))
        {
            errors.Add(new SettingError(nameof(StallSeconds), $"must be 0 to 86400, got {StallSeconds}"));
        }

        return errors;
    }
}

public static class FailureKinds
{
    public const string Refuse = "refuse";
    public const string Abort = "abort";
    public const string Stall = "stall";

    public static IReadOnlyList<string> All { get; } = [Refuse, Abort, Stall];
}
