using System.Text.Json;

using MockServe.Core.Workload;

namespace MockServe.Server.Tests.Cli;

public class SimulateCommandTests
{
    private static readonly string[] SmallWithoutLengths =
        ["simulate", "--users", "6", "--turns", "3", "--turn-tokens", "100", "--think-time", "2s", "--duration", "2m"];

    private static readonly string[] Small =
        ["simulate", "--users", "6", "--context", "20k", "--turns", "3", "--turn-tokens", "100", "--think-time", "2s", "--output-tokens", "64", "--duration", "2m"];

    [Fact]
    public void Simulate_Json_HasTheDocumentedFields()
    {
        var run = CliRun.Of([.. Small, "--format", "json"]);

        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        var root = doc.RootElement;
        foreach (string field in new[] { "requestsCompleted", "tokensGenerated", "contextSwitches", "swapBytes", "recomputedTokens" })
        {
            Assert.True(root.TryGetProperty(field, out _), field);
        }

        foreach (string latency in new[] { "ttftSeconds", "itlSeconds", "e2eSeconds" })
        {
            var p = root.GetProperty(latency);
            double p50 = p.GetProperty("p50").GetDouble();
            double p90 = p.GetProperty("p90").GetDouble();
            double p99 = p.GetProperty("p99").GetDouble();
            double max = p.GetProperty("max").GetDouble();
            Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99 && p99 <= max, $"{latency}: {p50} {p90} {p99} {max}");
        }

        Assert.True(root.GetProperty("requestsCompleted").GetInt64() > 6);
        Assert.True(root.GetProperty("run").GetProperty("eventsPerCpuSecond").GetDouble() > 0);
    }

    [Fact]
    public void Simulate_SameSeed_SameTraceFile()
    {
        using var dir = new TempDirectory();
        string a = Path.Combine(dir.Path, "a.tsv");
        string b = Path.Combine(dir.Path, "b.tsv");

        Assert.Equal(0, CliRun.Of([.. Small, "--seed", "3", "--trace", a]).ExitCode);
        Assert.Equal(0, CliRun.Of([.. Small, "--seed", "3", "--trace", b]).ExitCode);

        Assert.True(new FileInfo(a).Length > 10_000);
        Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
    }

    [Fact]
    public void Simulate_Table_PrintsTheFourMetricsAndPercentiles()
    {
        var run = CliRun.Of([.. Small, "--scheduler", "prefill-first"]);

        Assert.Equal(0, run.ExitCode);
        foreach (string row in new[] { "Concurrency", "Prefilling", "Decoding", "Context switching", "TTFT", "ITL", "E2E", "prefill-first", "events per CPU second" })
        {
            Assert.Contains(row, run.Out);
        }
    }

    [Fact]
    public void Simulate_ContextBeyondKv_FailsNamingContext()
    {
        var run = CliRun.Of("simulate", "--users", "2", "--context", "100k");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--context", run.Error);
        Assert.Contains("60912", run.Error);
        Assert.Empty(run.Out);
    }

    [Fact]
    public void Simulate_LengthSpecs_HeaderPrintsThemAsWritten()
    {
        var run = CliRun.Of([.. SmallWithoutLengths, "--context", "lognormal:8000,0.8", "--output-tokens", "uniform:32-64"]);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("6 users, lognormal:8000,0.8 context, 3 turns of +100 tokens, uniform:32-64 output tokens,", run.Out);
        Assert.Contains("users fit at the median first-turn context", run.Out);
    }

    [Fact]
    public void Simulate_OutputSpec_GeneratesOnlyDrawnLengths()
    {
        var run = CliRun.Of([.. SmallWithoutLengths, "--context", "20k", "--output-tokens", "uniform:32-64", "--format", "json"]);

        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Out);
        long completed = doc.RootElement.GetProperty("requestsCompleted").GetInt64();
        long inFlight = doc.RootElement.GetProperty("requestsInFlight").GetInt64();
        long tokens = doc.RootElement.GetProperty("tokensGenerated").GetInt64();
        // Each completed turn generated 32 to 64 tokens; a turn in flight at the end, at most 64.
        Assert.InRange(tokens, completed * 32, (completed + inFlight) * 64);
        Assert.Equal("uniform:32-64", doc.RootElement.GetProperty("workload").GetProperty("outputLengths").GetProperty("spec").GetString());
    }

    [Theory]
    [InlineData("--context", "uniform:9-3")]
    [InlineData("--output-tokens", "gamma:2")]
    public void Simulate_BadLengthSpec_FailsNamingTheFlagTheValueAndTheForms(string option, string value)
    {
        var run = CliRun.Of("simulate", "--users", "2", option, value);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains($"{option} is \"{value}\"", run.Error);
        Assert.Contains("Allowed forms: " + LengthSpec.AllowedForms, run.Error);
    }

    [Theory]
    [InlineData("--users", "0", "--users")]
    [InlineData("--scheduler", "fifo", "--scheduler")]
    [InlineData("--think-time", "soon", "--think-time")]
    [InlineData("--max-waiting", "-1", "--max-waiting")]
    [InlineData("--replicas", "0", "--replicas")]
    [InlineData("--router", "random", "--router")]
    [InlineData("--rate", "-1", "--rate")]
    [InlineData("--conversation", "stateless", "--conversation: unknown mode 'stateless', expected session or resend")]
    [InlineData("--shared-prefix", "2000", "--shared-prefix: must be between 0 and the (shortest) first-turn context of 1000 tokens, got 2000")]
    [InlineData("--shared-prefix", "lots", "--shared-prefix: expected a whole number of tokens")]
    public void Simulate_BadValue_FailsNamingTheOption(string option, string value, string expected)
    {
        string[] args = option == "--users"
            ? ["simulate", "--context", "1000", "--users", value]
            : ["simulate", "--context", "1000", "--users", "2", option, value];

        var run = CliRun.Of(args);

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains(expected, run.Error);
        Assert.Contains(value, run.Error);
    }

    [Fact]
    public void Simulate_WithoutUsersOrRate_FailsNamingUsers()
    {
        var run = CliRun.Of("simulate", "--context", "1000");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--users: required, unless --rate", run.Error);
    }

    [Fact]
    public void Simulate_ReplicasBehindARouter_PrintsEachReplicaAndJsonListsThem()
    {
        string[] args = ["simulate", "--model", "llama-3.1-8b", "--gpu", "h100-sxm", "--users", "16", "--context", "4k", "--turns", "4", "--think-time", "2s", "--output-tokens", "32", "--duration", "1m", "--replicas", "3", "--router", "session-affinity"];

        var table = CliRun.Of(args);
        var json = CliRun.Of([.. args, "--format", "json"]);

        Assert.Equal(0, table.ExitCode);
        Assert.Contains("on 3 replicas behind session-affinity, each 1 x h100-sxm", table.Out);
        Assert.Contains("Replica", table.Out);
        using var doc = JsonDocument.Parse(json.Out);
        Assert.Equal("session-affinity", doc.RootElement.GetProperty("router").GetString());
        var replicas = doc.RootElement.GetProperty("replicas").EnumerateArray().ToList();
        Assert.Equal(3, replicas.Count);
        Assert.Equal(doc.RootElement.GetProperty("requestsCompleted").GetInt64(), replicas.Sum(r => r.GetProperty("requestsCompleted").GetInt64()));
    }

    [Fact]
    public void Simulate_WarmupNotShorterThanTheDuration_FailsNamingBoth()
    {
        var run = CliRun.Of("simulate", "--users", "2", "--context", "1000", "--duration", "1h", "--warmup", "2h");

        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--warmup: must be zero or more seconds and less than the duration (3600 s), got 7200 s", run.Error);
    }

    [Fact]
    public void Simulate_Rate_OpenLoopWithWarmupInTheHeader()
    {
        var run = CliRun.Of("simulate", "--rate", "0.5", "--context", "4k", "--turns", "2", "--output-tokens", "16", "--duration", "2m", "--warmup", "30s");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("0.5 conversations/s arriving", run.Out);
        Assert.Contains("(30 s of warm-up left out)", run.Out);
    }

    [Fact]
    public void Simulate_ConversationResendWithSharedPrefix_HeaderAndJsonNameTheModeAndCacheHitsFollow()
    {
        string[] args = [.. Small, "--conversation", "resend", "--shared-prefix", "16k"];

        var table = CliRun.Of(args);
        var json = CliRun.Of([.. args, "--format", "json"]);

        Assert.Equal(0, table.ExitCode);
        Assert.Contains("resent conversations (no session, prefix caching), 16,000-token shared prefix", table.Out);
        using var doc = JsonDocument.Parse(json.Out);
        var workload = doc.RootElement.GetProperty("workload");
        Assert.Equal(("resend", 16_000L), (workload.GetProperty("conversation").GetString(), workload.GetProperty("sharedPrefixTokens").GetInt64()));
        // No session swaps, no history lost. Only a turn admitted while the first was still prefilling is new (the engine
        // caches a prompt's blocks when its prefill completes); every later one finds at least the shared prefix.
        var states = doc.RootElement.GetProperty("cacheStates");
        Assert.Equal((0L, 0L), (states.GetProperty("host").GetInt64(), states.GetProperty("miss").GetInt64()));
        Assert.InRange(states.GetProperty("new").GetInt64(), 1, 2);
        Assert.True(states.GetProperty("hot").GetInt64() > 6 * 3, $"{states.GetProperty("hot").GetInt64()} hot turns");
    }

    [Fact]
    public void Simulate_DefaultConversation_HeaderSaysSessions()
    {
        var run = CliRun.Of(Small);

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("think 2 s, sessions, 120 s of model time", run.Out);
    }

    [Fact]
    public void Simulate_RealisticEightBitOnH100_SaysThePrecisionAndEfficiencyUnderTheHeader()
    {
        var run = CliRun.Of("simulate", "--users", "2", "--duration", "60s", "--gpu", "h100-sxm", "--weight-bits", "8", "--efficiency", "realistic");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            "8-bit weights (FP8 compute), efficiency: prefill 50% of peak FLOP/s, decode 60% of HBM bandwidth; host 8 ms a step, overlapped",
            run.Out.Split('\n')[1].TrimEnd('\r'));
    }
}
