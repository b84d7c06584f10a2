using System.Globalization;

namespace MockServe.Core.Capacity;

/// <summary>What the search varies: concurrent users (closed loop) or conversations arriving per second (open loop).</summary>
public enum CapacityMode
{
    Users,
    Rate,
}

/// <summary>How a capacity search runs: the SLOs, the seeds, where it starts and when it stops.</summary>
public sealed record CapacitySearchOptions
{
    public required SloSet Slos { get; init; }

    public CapacityMode Mode { get; init; } = CapacityMode.Users;

    /// <summary>A point passes only if the run of every seed passes.</summary>
    public IReadOnlyList<int> Seeds { get; init; } = [1];

    /// <summary>The first load tried; near the answer saves steps (the cost model's users that fit is a good guess).</summary>
    public double Start { get; init; } = 1;

    /// <summary>The smallest load: if it fails, the answer is 0.</summary>
    public double Min { get; init; } = 1;

    /// <summary>The largest load tried.</summary>
    public double Max { get; init; } = 1_000_000;

    /// <summary>
    /// Stop when the passing and failing loads are within this share of the passing one; 0 bisects users to the last
    /// one (a rate needs a share above 0).
    /// </summary>
    public double Precision { get; init; }

    /// <summary>At most this many points evaluated; the answer is then the largest load known to pass.</summary>
    public int MaxSteps { get; init; } = 24;

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Seeds.Count is < 1 or > 100)
        {
            errors.Add($"--seeds: must be between 1 and 100, got {Seeds.Count}");
        }

        if (!(Min > 0) || !(Max >= Min) || double.IsInfinity(Max))
        {
            errors.Add($"the search range must be above 0 and finite, got {Min}..{Max}");
        }

        if (!(Precision >= 0) || Precision >= 1 || (Mode == CapacityMode.Rate && Precision == 0))
        {
            errors.Add($"--precision: must be at least 0 (above 0 for --mode rate) and below 1, got {Precision}");
        }

        if (MaxSteps is < 1 or > 1000)
        {
            errors.Add($"--max-steps: must be between 1 and 1000, got {MaxSteps}");
        }

        return errors;
    }
}

/// <summary>One seed's run at a point, and why it failed (null when it passed).</summary>
public sealed record SeedRun(int Seed, CapacityRun Run, string? Failure);

/// <summary>One evaluated load: the runs of its seeds, up to and including the first that failed.</summary>
public sealed record CapacityPoint(double Load, IReadOnlyList<SeedRun> Runs)
{
    public bool Passed => Runs.All(r => r.Failure is null);

    /// <summary>The first failing seed's reason, or null.</summary>
    public string? Failure => Runs.FirstOrDefault(r => r.Failure is not null) is { } failed
        ? string.Create(CultureInfo.InvariantCulture, $"seed {failed.Seed}: {failed.Failure}")
        : null;

    /// <summary>The threshold's percentile at its worst over the seeds run.</summary>
    public double Worst(SloThreshold threshold)
    {
        ArgumentNullException.ThrowIfNull(threshold);
        return Runs.Max(r => threshold.ValueOf(threshold.SummaryOf(r.Run.Ttft, r.Run.Itl, r.Run.E2e)));
    }

    /// <summary>Turns per model second that met every SLO, averaged over the seeds run.</summary>
    public double Goodput => Runs.Average(r => r.Run.MeasuredSeconds > 0 ? r.Run.GoodTurns / r.Run.MeasuredSeconds : 0);

    /// <summary>The limit nearest its ceiling, from the four shares averaged over the seeds run.</summary>
    public BindingLimitChoice Binding => BindingLimitChoice.Choose(
        Runs.Average(r => r.Run.ConcurrencyShare),
        Runs.Average(r => r.Run.PrefillBusy),
        Runs.Average(r => r.Run.DecodeBusy),
        Runs.Average(r => r.Run.SwapBusy));
}

/// <summary>The answer of a search, the point it stands on, and every point evaluated in order.</summary>
public sealed record CapacitySearchResult(
    double Answer,
    CapacityPoint At,
    double? FailedAt,
    bool StepLimitReached,
    IReadOnlyList<CapacityPoint> Points);

/// <summary>
/// The largest load whose runs meet every SLO on every seed: from the start, double until a point fails (or halve
/// until one passes), then bisect between the last pass and the first failure. This assumes more load never
/// makes latency better, which holds for the engine's queues on average; where noise breaks it, the answer is a
/// load that passed with a failure above it, never one that was not run.
/// </summary>
public static class CapacitySearch
{
    public static CapacitySearchResult Run(ICapacitySimulator simulator, CapacitySearchOptions options)
    {
        ArgumentNullException.ThrowIfNull(simulator);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }

        var points = new List<CapacityPoint>();
        bool users = options.Mode == CapacityMode.Users;
        double min = users ? Math.Ceiling(options.Min) : options.Min;
        double max = users ? Math.Floor(options.Max) : options.Max;
        double Snap(double load) => Math.Clamp(users ? Math.Round(load) : load, min, max);

        CapacityPoint Evaluate(double load)
        {
            var runs = new List<SeedRun>();
            foreach (int seed in options.Seeds)
            {
                var run = simulator.Run(load, seed);
                string? failure = Failure(run, options.Slos);
                runs.Add(new SeedRun(seed, run, failure));
                if (failure is not null)
                {
                    // One failing seed fails the point; the rest would only cost time.
                    break;
                }
            }

            var point = new CapacityPoint(load, runs);
            points.Add(point);
            return point;
        }

        CapacityPoint? pass = null;
        CapacityPoint? fail = null;
        var first = Evaluate(Snap(options.Start));
        if (first.Passed)
        {
            pass = first;
        }
        else
        {
            fail = first;
        }

        while (pass is null && fail!.Load > min && points.Count < options.MaxSteps)
        {
            var next = Evaluate(Snap(fail.Load / 2));
            if (next.Passed)
            {
                pass = next;
            }
            else
            {
                fail = next;
            }
        }

        while (fail is null && pass!.Load < max && points.Count < options.MaxSteps)
        {
            var next = Evaluate(Snap(pass.Load * 2));
            if (next.Passed)
            {
                pass = next;
            }
            else
            {
                fail = next;
            }
        }

        while (pass is not null && fail is not null && !Converged(pass.Load, fail.Load) && points.Count < options.MaxSteps)
        {
            double mid = users ? pass.Load + Math.Floor((fail.Load - pass.Load) / 2) : (pass.Load + fail.Load) / 2;
            var next = Evaluate(mid);
            if (next.Passed)
            {
                pass = next;
            }
            else
            {
                fail = next;
            }
        }

        bool done = pass is null
            ? fail!.Load <= min
            : fail is null ? pass.Load >= max : Converged(pass.Load, fail.Load);
        return new CapacitySearchResult(pass?.Load ?? 0, pass ?? fail!, fail?.Load, !done, points);

        bool Converged(double lo, double hi) =>
            hi - lo <= options.Precision * lo || (users && hi - lo <= 1);
    }

    /// <summary>
    /// Why one run fails, or null when it passes. A run must measure at least one turn, and more turns than it left
    /// unfinished at the end or had refused: an overloaded server finishes few turns, and those few can look fast
    /// while the rest wait unseen. Then every threshold's percentile must be within its limit. Percentiles are
    /// nearest rank, so with fewer than 1/(1 - q) turns the percentile is the slowest turn: a short run errs strict.
    /// </summary>
    public static string? Failure(CapacityRun run, SloSet slos)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(slos);
        if (run.MeasuredTurns == 0)
        {
            return "no turn finished after the warm-up";
        }

        if (run.StrandedTurns >= run.MeasuredTurns)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{run.StrandedTurns} turns unfinished or refused against {run.MeasuredTurns} measured");
        }

        foreach (var threshold in slos.Thresholds)
        {
            double value = threshold.ValueOf(threshold.SummaryOf(run.Ttft, run.Itl, run.E2e));
            if (value > threshold.LimitSeconds)
            {
                return $"{threshold.Key} {SloThreshold.FormatSeconds(value)} > {SloThreshold.FormatSeconds(threshold.LimitSeconds)}";
            }
        }

        return null;
    }
}
