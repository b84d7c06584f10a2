namespace MockServe.Core.Workload;

/// <summary>
/// A distribution of token counts (prompt, output, user message, turns per conversation), written as a spec
/// string such as <c>fixed:50000</c> or <c>lognormal:2000,0.8</c> (see <see cref="LengthSpec"/>).
/// </summary>
public interface ILengthDistribution
{
    /// <summary>The kind: fixed, uniform, normal, lognormal or hist.</summary>
    string Name { get; }

    /// <summary>The spec string that reproduces this distribution, for reports.</summary>
    string Spec { get; }

    /// <summary>The smallest value <see cref="Sample"/> can return (at least 1).</summary>
    long Min { get; }

    /// <summary>Draws one value from the seeded source; never below <see cref="Min"/>.</summary>
    long Sample(Random random);
}
