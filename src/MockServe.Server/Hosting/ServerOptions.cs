using System.Net;

namespace MockServe.Server.Hosting;

/// <summary>Section <c>MockServe:Server</c>: endpoints, time scale and how requests become tokens.</summary>
public sealed class ServerOptions
{
    public const string Section = "MockServe:Server";

    /// <summary>gRPC (h2c) port.</summary>
    public int Port { get; set; } = 50051;

    /// <summary>Prometheus text at http://BIND:PORT/metrics.</summary>
    public int MetricsPort { get; set; } = 9464;

    /// <summary>Address both ports bind to; loopback unless set.</summary>
    public string BindAddress { get; set; } = "127.0.0.1";

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

    /// <summary>Largest request message in bytes; 1M tokens of text is about 4 MB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Concurrent HTTP/2 streams per client connection (Kestrel's default is 100).</summary>
    public int MaxStreamsPerConnection { get; set; } = 1000;

    public IEnumerable<string> Validate()
    {
        if (Port is < 0 or > 65535)
        {
            yield return $"Port: must be 0 to 65535, got {Port}";
        }

        if (MetricsPort is < 0 or > 65535 || (MetricsPort == Port && Port != 0))
        {
            yield return $"MetricsPort: must be 0 to 65535 and differ from Port {Port}, got {MetricsPort}";
        }

        if (!IPAddress.TryParse(BindAddress, out _))
        {
            yield return $"BindAddress: must be an IP address such as 127.0.0.1 or ::1, got '{BindAddress}'";
        }

        if (!(TimeScale > 0 && TimeScale <= 1000))
        {
            yield return $"TimeScale: must be more than 0 and at most 1000, got {TimeScale}";
        }

        if (!(DrainSeconds >= 0 && DrainSeconds <= 3600))
        {
            yield return $"DrainSeconds: must be 0 to 3600, got {DrainSeconds}";
        }

        if (DefaultMaxTokens < 1)
        {
            yield return $"DefaultMaxTokens: must be at least 1, got {DefaultMaxTokens}";
        }

        if (TokenText is not ("pseudo" or "echo"))
        {
            yield return $"TokenText: must be pseudo or echo, got '{TokenText}'";
        }

        if (Tokenizer is not ("o200k" or "approx"))
        {
            yield return $"Tokenizer: must be o200k or approx, got '{Tokenizer}'";
        }

        if (ReferenceContextTokens < 1)
        {
            yield return $"ReferenceContextTokens: must be at least 1, got {ReferenceContextTokens}";
        }

        if (MaxReceiveMessageBytes < 4096)
        {
            yield return $"MaxReceiveMessageBytes: must be at least 4096, got {MaxReceiveMessageBytes}";
        }

        if (MaxStreamsPerConnection is < 1 or > 100_000)
        {
            yield return $"MaxStreamsPerConnection: must be 1 to 100000, got {MaxStreamsPerConnection}";
        }
    }
}

/// <summary>Section <c>MockServe:Profile</c>: the served model and GPU group.</summary>
public sealed class ProfileOptions
{
    public const string Section = "MockServe:Profile";

    /// <summary>Model preset id or profile file.</summary>
    public string Model { get; set; } = Core.Profiles.Presets.DefaultModelId;

    /// <summary>GPU preset id or profile file.</summary>
    public string Gpu { get; set; } = Core.Profiles.Presets.DefaultGpuId;

    /// <summary>Tensor-parallel degree; the GPU profile's count when unset.</summary>
    public int? TensorParallel { get; set; }

    public double KvLayers { get; set; } = 1;

    public double KvHeads { get; set; } = 1;

    public double KvTokens { get; set; } = 1;

    public double? KvBits { get; set; }

    public double PrefillUtilization { get; set; } = 1;

    public double DecodeUtilization { get; set; } = 1;
}

/// <summary>Section <c>MockServe:FailureInjection</c>: failures for client resilience tests, off by default.</summary>
public sealed class FailureInjectionOptions
{
    public const string Section = "MockServe:FailureInjection";

    /// <summary>Request metadata key that forces one failure kind on that request.</summary>
    public const string MetadataKey = "x-mockserve-fail";

    /// <summary>Fraction of requests that fail, 0 to 1.</summary>
    public double Rate { get; set; }

    /// <summary>Kinds drawn from: refuse (UNAVAILABLE before start), abort (INTERNAL mid-stream), stall (a pause mid-stream).</summary>
    public List<string> Kinds { get; set; } = [FailureKinds.Refuse, FailureKinds.Abort, FailureKinds.Stall];

    /// <summary>Model seconds a stall holds the stream.</summary>
    public double StallSeconds { get; set; } = 10;

    public IEnumerable<string> Validate()
    {
        if (!(Rate >= 0 && Rate <= 1))
        {
            yield return $"Rate: must be 0 to 1, got {Rate}";
        }

        foreach (string kind in Kinds.Where(k => !FailureKinds.All.Contains(k)))
        {
            yield return $"Kinds: unknown kind '{kind}', expected {string.Join(", ", FailureKinds.All)}";
        }

        if (Rate > 0 && Kinds.Count == 0)
        {
            yield return "Kinds: must name at least one kind when Rate is above 0";
        }

        if (!(StallSeconds >= 0 && StallSeconds <= 86_400))
        {
            yield return $"StallSeconds: must be 0 to 86400, got {StallSeconds}";
        }
    }
}

public static class FailureKinds
{
    public const string Refuse = "refuse";
    public const string Abort = "abort";
    public const string Stall = "stall";

    public static IReadOnlyList<string> All { get; } = [Refuse, Abort, Stall];
}
