using MockServe.LoadTests.Workload;

namespace MockServe.LoadTests.Tests.Workload;

public class WorkloadOptionsTests
{
    [Fact]
    public void Validate_Defaults_NoErrors()
    {
        var options = new WorkloadOptions();

        Assert.Empty(options.Validate());
        Assert.True(options.IgnoreEos);
        Assert.False(options.TextPrompts);
    }

    [Fact]
    public void Validate_NegativePrefix_NamesKeyAndRange()
    {
        var errors = new WorkloadOptions { SharedPrefixTokens = -1 }.Validate();

        Assert.Equal(["Workload:SharedPrefixTokens is -1: it must be at least 0"], errors);
    }

    [Fact]
    public void Validate_LimitBelowPrefix_NamesTheSmallestAllowed()
    {
        var errors = new WorkloadOptions { SharedPrefixTokens = 20, ContextLimit = 10 }.Validate();

        // 20 + 2 = 22.
        Assert.Equal(
            ["Workload:ContextLimit is 10: it must be at least SharedPrefixTokens + 2 = 22 (the prefix, one more prompt token and one output token), or unset for no limit"],
            errors);
    }

    [Fact]
    public void Validate_BadSpecsAndCharsPerToken_EveryErrorUnderTheSection()
    {
        var errors = new WorkloadOptions { Turns = "fixed:0", ThinkTime = "soon", CharsPerToken = 0 }.Validate("scenarios[0].workload");

        Assert.Equal(3, errors.Count);
        Assert.StartsWith("scenarios[0].workload:Turns is \"fixed:0\"", errors[0], StringComparison.Ordinal);
        Assert.StartsWith("scenarios[0].workload:ThinkTime is \"soon\"", errors[1], StringComparison.Ordinal);
        Assert.Equal("scenarios[0].workload:CharsPerToken is 0: it must be above 0 and at most 100, or unset for 0.75 words a token", errors[2]);
    }

    [Fact]
    public void Validate_BadTraceSettings_NamesKeyAndValue()
    {
        using var dir = new TempDirectory();
        var errors = new WorkloadOptions { Trace = "missing.jsonl", TraceTimeScale = -2 }.Validate(baseDirectory: dir.Path);

        Assert.Equal(
            ["Workload:TraceTimeScale is -2: it must be a finite number above 0", "Workload:Trace is \"missing.jsonl\": no such file"],
            errors);
    }

    [Fact]
    public void Create_InvalidOptions_ThrowsWithTheErrors()
    {
        var e = Assert.Throws<ArgumentException>(() => WorkloadPlan.Create(new WorkloadOptions { Output = "fixed:-3" }, new Random(0)));

        Assert.StartsWith("Workload:Output is \"fixed:-3\"", e.Message, StringComparison.Ordinal);
    }
}
