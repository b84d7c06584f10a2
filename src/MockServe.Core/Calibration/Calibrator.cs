using System.Globalization;

using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.Optimization;

using MockServe.Core.CostModel;
using MockServe.Core.Profiles;

namespace MockServe.Core.Calibration;

/// <summary>
/// Fits a deployment's <see cref="Efficiency"/> (u_p, u_d, h0, h1, r) to measured step times, TTFTs and ITLs by least
/// squares on the cost model's own formulas (<see cref="GpuCostModel.GpuStepSeconds"/>, <see cref="Efficiency.StepSeconds"/>).
/// </summary>
/// <remarks>
/// <para>Predictions, with G(cost) = max(FLOPs / (peak x u_p x tp), bytes / (bandwidth x u_d x tp)) and
/// S(cost, n) = the step of <see cref="Efficiency.StepSeconds"/>: G + h0 + h1 n, or max(G, h0 + h1 n) when the host
/// time overlaps.</para>
/// <list type="bullet">
/// <item>Step (batch B, decode context C, prefill tokens P): S of (B - [P &gt; 0]) decodes at context C and one prefill of
/// P tokens with nothing cached, n = B.</item>
/// <item>Request or summary (prompt P, output O, c = max(1, round(concurrency ?? 1))), with the other users' context
/// C' = P + O/2 (steady state):
/// TTFT = r + sum over the prompt's chunks k of S(chunk k of the prompt with k x b tokens cached, plus c - 1 decodes
/// at C'; n = c), chunks of b = MaxBatchedTokens - (c - 1) tokens, the budget the engine's chunked-prefill scheduler
/// leaves after the decodes. At c = 1 this is the engine exactly: the first token comes at the end of the last chunk's
/// step.
/// ITL at c = 1 = the mean of S over the O - 1 decode steps at contexts P .. P + O - 2 (the engine's: the first decode
/// runs with the P prompt tokens cached); at c &gt; 1 = S of c decodes at context C'.</item>
/// </list>
/// <para>Residuals are relative, (predicted - observed) / observed, so a TTFT in seconds and an ITL in milliseconds weigh
/// alike. The solver (MathNet.Numerics Levenberg-Marquardt, bounded) works on a = 1/u in [1, 1000] (the step time is
/// linear in it) and overheads in milliseconds in [0, 60000); standard errors come from s^2 (J^T J)^-1 at the minimum,
/// and se(u) = se(a) / a^2 (delta method).</para>
/// <para>Only what the data can determine is fitted: u_p needs prefill work, u_d decode work, h1 more than one
/// sequence count per step, r a TTFT. A parameter no residual depends on at the starting values (all steps on the
/// other side of the roofline, host time hidden under GPU time) is kept too; overlapped host time, which shows only
/// where it exceeds the GPU's, starts at the fastest step's time and is kept only if it binds no more quantities at the
/// fit than it has parameters. Parameters the data confound (a
/// near-singular J^T J) are named in a <see cref="CalibrationInputException"/> rather than returned as numbers.</para>
/// </remarks>
public static class Calibrator
{
    private const int ParameterCount = 5;
    private const double MaxInverseUtilization = 1000;
    private const double MaxOverheadMs = 60_000;

    // Condition number of the column-normalised Jacobian above which the fit cannot separate some parameters:
    // (J^T J) then has a condition number above 1e14, where its inverse keeps only a digit or two.
    private const double MaxCondition = 1e7;

    // A decode stretch at c = 1 is priced in at most this many segments, each by the mean of its end points: exact
    // while a segment stays on one side of the roofline (FLOPs and bytes are linear in the context).
    private const int MaxDecodeSegments = 32;

    /// <summary>Fits the efficiency of <paramref name="deployment"/> to <paramref name="measurements"/>.</summary>
    /// <param name="deployment">Model, GPU, tp, weight and KV bits; its efficiency is the starting point, and the source of
    /// <see cref="Efficiency.OverlapHostTime"/>, <see cref="Efficiency.FinishOverheadSeconds"/> and of every value the data
    /// cannot determine.</param>
    /// <param name="measurements">Steps, requests or summaries, in any mix.</param>
    /// <param name="options">Scheduler budget and the source text.</param>
    /// <exception cref="CalibrationInputException">A measurement lacks a field its prediction needs (named by its source),
    /// there are fewer residuals than parameters to fit, or the data confound some parameters.</exception>
    public static CalibrationResult Fit(Deployment deployment, IReadOnlyList<Measurement> measurements, CalibrationOptions options)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(measurements);
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxBatchedTokens < 1)
        {
            throw new ArgumentException($"MaxBatchedTokens must be at least 1, got {options.MaxBatchedTokens}", nameof(options));
        }

        var cost = new GpuCostModel(deployment with { Efficiency = Efficiency.Peak });
        var entries = new List<Entry>();
        foreach (var m in measurements)
        {
            Build(cost, m, options.MaxBatchedTokens, entries);
        }

        var start = Start(deployment.Efficiency);
        bool overlap = deployment.Efficiency.OverlapHostTime;
        if (overlap && entries.Where(e => e.Quantity != CalibratedQuantity.Ttft).Select(e => e.Observed).DefaultIfEmpty(0).Min() is > 0 and var fastest)
        {
            // Overlapped, host time shows only where it exceeds the GPU's: a small start would hide it under every
            // step. The fastest step (or ITL) is the likeliest host-bound one: start at it.
            start[2] = Math.Max(start[2], fastest * 1000);
        }
        var reasons = Identify(entries, start, deployment.Efficiency);
        int[] free = Enumerable.Range(0, ParameterCount).Where(i => reasons[i] is null).ToArray();
        if (entries.Count < free.Length || entries.Count == 0)
        {
            throw new CalibrationInputException(
                $"{entries.Count} measured quantities cannot determine {free.Length} parameters ({string.Join(", ", free.Select(i => (CalibrationParameter)i))}): give at least as many");
        }

        var full = (double[])start.Clone();
        int iterations = 0;
        bool converged = true;
        if (free.Length > 0)
        {
            (iterations, converged) = Solve(entries, full, free, overlap, options.MaxIterations);
        }

        var jacobian = Jacobian(entries, full, free, overlap, out var residuals);
        int[] host = [.. free.Where(i => i is 2 or 3)];
        if (overlap && host.Length > 0)
        {
            // Overlapped host time shows only in the quantities it binds at the fit. Binding no more of them than there
            // are host parameters, it tells nothing (the GPU's time explains the data as well): keep it at the
            // deployment's value and fit the rest again.
            int column = Array.IndexOf(free, host[0]);
            int bound = Enumerable.Range(0, jacobian.RowCount).Count(r => jacobian[r, column] != 0);
            if (bound <= host.Length)
            {
                var kept = Kept(deployment.Efficiency);
                foreach (int i in host)
                {
                    reasons[i] = "the host time is hidden under the GPU time in (nearly) every step";
                    start[i] = kept[i];
                }

                free = [.. free.Where(i => reasons[i] is null)];
                full = (double[])start.Clone();
                (iterations, converged) = free.Length > 0 ? Solve(entries, full, free, overlap, options.MaxIterations) : (0, true);
                jacobian = Jacobian(entries, full, free, overlap, out residuals);
            }
        }

        CheckConfounding(jacobian, free);
        double rss = residuals.Sum(r => r * r);
        var se = StandardErrors(jacobian, rss, entries.Count - free.Length);

        var estimates = new ParameterEstimate[ParameterCount];
        for (int i = 0; i < ParameterCount; i++)
        {
            int column = Array.IndexOf(free, i);
            double? error = column >= 0 && se is not null ? Natural(i, full[i], se[column]) : null;
            estimates[i] = new ParameterEstimate((CalibrationParameter)i, Value(i, full[i]), error, reasons[i]);
        }

        string date = options.Date is { } d ? ", " + d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "";
        var efficiency = deployment.Efficiency with
        {
            PrefillComputeUtilization = estimates[0].Value,
            DecodeBandwidthUtilization = estimates[1].Value,
            StepOverheadSeconds = estimates[2].Value,
            StepOverheadPerSequenceSeconds = estimates[3].Value,
            RequestOverheadSeconds = estimates[4].Value,
            Source = $"calibrated from {options.Source}, {measurements.Count} measurements{date}",
        };
        var compared = entries.Select((e, k) => new CalibrationResidual(e.Source, e.Quantity, e.Observed, e.Observed * (1 + residuals[k]))).ToArray();
        double rms = Math.Sqrt(rss / entries.Count);
        return new CalibrationResult(efficiency, estimates, compared, rms, iterations, converged);
    }

    // Parameters in solver units: 1/u_p, 1/u_d, h0, h1 and r in milliseconds.
    private static double[] Start(Efficiency e)
    {
        // The roofline and zero host time sit on the bounds, where a bounded solver cannot move: start inside.
        static double Inverse(double u) => u >= 1 ? 2 : 1 / u;
        static double Ms(double seconds, double floor) => Math.Max(seconds * 1000, floor);
        return
        [
            Inverse(e.PrefillComputeUtilization),
            Inverse(e.DecodeBandwidthUtilization),
            Ms(e.StepOverheadSeconds, 1),
            Ms(e.StepOverheadPerSequenceSeconds, 0.01),
            Ms(e.RequestOverheadSeconds, 1),
        ];
    }

    private static double[] Kept(Efficiency e) =>
    [
        1 / e.PrefillComputeUtilization,
        1 / e.DecodeBandwidthUtilization,
        e.StepOverheadSeconds * 1000,
        e.StepOverheadPerSequenceSeconds * 1000,
        e.RequestOverheadSeconds * 1000,
    ];

    private static double Value(int parameter, double solver) => parameter < 2 ? 1 / solver : solver / 1000;

    private static double Natural(int parameter, double solver, double se) => parameter < 2 ? se / (solver * solver) : se / 1000;

    /// <summary>Why each parameter cannot be fitted (null: fit it); a kept parameter's solver value is set in <paramref name="start"/>.</summary>
    private static string?[] Identify(List<Entry> entries, double[] start, Efficiency efficiency)
    {
        bool overlap = efficiency.OverlapHostTime;
        var reasons = new string?[ParameterCount];
        if (!entries.Any(e => e.Steps.Any(s => s.HasPrefill)))
        {
            reasons[0] = "no measurement with prefill work (a step with prefill tokens, or a TTFT)";
        }

        if (!entries.Any(e => e.Steps.Any(s => s.HasDecode)))
        {
            reasons[1] = "no measurement with decode work (a step with decoding sequences, or an ITL)";
        }

        var counts = entries.SelectMany(e => e.Steps).Select(s => s.Sequences).Distinct().ToArray();
        if (counts.Length < 2)
        {
            reasons[3] = $"one batch size only ({(counts.Length == 1 ? counts[0] : 0)} sequences per step): the fixed step time absorbs the per-sequence time";
            start[3] = 0;
        }

        if (!entries.Any(e => e.IncludesRequestOverhead))
        {
            reasons[4] = "no TTFT measured";
        }

        // A parameter every prediction ignores at the start (each step on the other side of the roofline, or its host
        // time hidden under the GPU's) would sit still; keep it and say why.
        int[] free = Enumerable.Range(0, ParameterCount).Where(i => reasons[i] is null).ToArray();
        var j = Jacobian(entries, start, free, overlap, out _);
        for (int c = 0; c < free.Length; c++)
        {
            // Overlapped host time can be hidden at the start and show once the utilisations move: the solver decides.
            if (j.Column(c).AbsoluteMaximum() == 0 && !(overlap && free[c] is 2 or 3))
            {
                reasons[free[c]] = free[c] switch
                {
                    0 => "every step with prefill work is memory bound",
                    1 => "every step is compute bound",
                    _ => "the host time is hidden under the GPU time in every step",
                };
            }
        }

        // A kept parameter stays at the deployment's value (h1 at 0 when one batch size leaves it to h0).
        var kept = Kept(efficiency);
        for (int i = 0; i < ParameterCount; i++)
        {
            if (reasons[i] is not null && !(i == 3 && counts.Length < 2))
            {
                start[i] = kept[i];
            }
        }

        return reasons;
    }

    private static (int Iterations, bool Converged) Solve(List<Entry> entries, double[] full, int[] free, bool overlap, int maxIterations)
    {
        var x = Vector<double>.Build.Dense(entries.Count, i => i);
        var y = Vector<double>.Build.Dense(entries.Count);
        double[] Expand(Vector<double> p)
        {
            var all = (double[])full.Clone();
            for (int c = 0; c < free.Length; c++)
            {
                all[free[c]] = p[c];
            }

            return all;
        }

        // x is the residual's index and y is zero: the model's value is the relative residual itself.
        Func<Vector<double>, Vector<double>, Vector<double>> function = (p, _) =>
            {
                Jacobian(entries, Expand(p), free, overlap, out var r, withJacobian: false);
                return Vector<double>.Build.Dense(r);
            };
        Func<Vector<double>, Vector<double>, Matrix<double>> derivatives = (p, _) => Jacobian(entries, Expand(p), free, overlap, out double[] _);
        var model = ObjectiveFunction.NonlinearModel(function, derivatives, x, y);
        var lower = Vector<double>.Build.Dense(free.Length, c => free[c] < 2 ? 1.0 : 0.0);
        var upper = Vector<double>.Build.Dense(free.Length, c => free[c] < 2 ? MaxInverseUtilization : MaxOverheadMs);
        var initial = Vector<double>.Build.Dense(free.Length, c => full[free[c]]);
        var solver = new LevenbergMarquardtMinimizer(maximumIterations: maxIterations);
        var result = solver.FindMinimum(model, initial, lower, upper);
        for (int c = 0; c < free.Length; c++)
        {
            full[free[c]] = result.MinimizingPoint[c];
        }

        bool converged = result.ReasonForExit is not (ExitCondition.ExceedIterations or ExitCondition.InvalidValues or ExitCondition.None);
        return (result.Iterations, converged);
    }

    /// <summary>Relative residuals at <paramref name="p"/> and their derivatives by the free parameters (solver units).</summary>
    private static Matrix<double> Jacobian(List<Entry> entries, double[] p, int[] free, bool overlap, out double[] residuals, bool withJacobian = true)
    {
        residuals = new double[entries.Count];
        var j = Matrix<double>.Build.Dense(entries.Count, withJacobian ? free.Length : 0);
        Span<double> grad = stackalloc double[ParameterCount];
        for (int k = 0; k < entries.Count; k++)
        {
            var e = entries[k];
            grad.Clear();
            double predicted = 0;
            foreach (var s in e.Steps)
            {
                double compute = s.ComputeSeconds * p[0];
                double memory = s.MemorySeconds * p[1];
                double gpu = Math.Max(compute, memory);
                double host = (p[2] + (p[3] * s.Sequences)) / 1000;
                // Efficiency.StepSeconds: host time added to the GPU's, or overlapped with it.
                bool gpuCounts = !overlap || gpu >= host;
                bool hostCounts = !overlap || host > gpu;
                predicted += s.Weight * ((gpuCounts ? gpu : 0) + (hostCounts ? host : 0));
                if (gpuCounts)
                {
                    if (compute >= memory)
                    {
                        grad[0] += s.Weight * s.ComputeSeconds;
                    }
                    else
                    {
                        grad[1] += s.Weight * s.MemorySeconds;
                    }
                }

                if (hostCounts)
                {
                    grad[2] += s.Weight / 1000;
                    grad[3] += s.Weight * s.Sequences / 1000;
                }
            }

            if (e.IncludesRequestOverhead)
            {
                predicted += p[4] / 1000;
                grad[4] += 1.0 / 1000;
            }

            residuals[k] = (predicted - e.Observed) / e.Observed;
            if (withJacobian)
            {
                for (int c = 0; c < free.Length; c++)
                {
                    j[k, c] = grad[free[c]] / e.Observed;
                }
            }
        }

        return j;
    }

    /// <summary>Names the parameters the data cannot tell apart: those that carry the smallest singular vector.</summary>
    private static void CheckConfounding(Matrix<double> j, int[] free)
    {
        if (free.Length < 2)
        {
            return;
        }

        // Normalise the columns so units (a ~ 1, milliseconds ~ 0.01..100) do not pass for ill-conditioning.
        var scaled = j.Clone();
        for (int c = 0; c < free.Length; c++)
        {
            double norm = j.Column(c).L2Norm();
            scaled.SetColumn(c, j.Column(c) / (norm > 0 ? norm : 1));
        }

        var svd = scaled.Svd(computeVectors: true);
        double largest = svd.S[0];
        double smallest = svd.S[free.Length - 1];
        if (smallest > 0 && largest / smallest < MaxCondition)
        {
            return;
        }

        var weak = svd.VT.Row(free.Length - 1);
        var names = Enumerable.Range(0, free.Length).Where(c => Math.Abs(weak[c]) > 0.2).Select(c => ((CalibrationParameter)free[c]).ToString());
        throw new CalibrationInputException(
            $"the measurements confound {string.Join(" and ", names)} (condition number {largest / smallest:G3}): " +
            "add measurements that vary what tells them apart (batch sizes, contexts, prompt lengths), or keep one by profile");
    }

    private static double[]? StandardErrors(Matrix<double> j, double rss, int dof)
    {
        if (dof <= 0 || j.ColumnCount == 0)
        {
            return null;
        }

        // Covariance s^2 (J^T J)^-1 at the minimum, s^2 = RSS / (n - p).
        var covariance = (j.TransposeThisAndMultiply(j)).Inverse() * (rss / dof);
        return Enumerable.Range(0, j.ColumnCount).Select(c => Math.Sqrt(Math.Max(0, covariance[c, c]))).ToArray();
    }

    private static void Build(GpuCostModel cost, Measurement m, int budget, List<Entry> entries)
    {
        switch (m.Kind)
        {
            case MeasurementKind.Step:
                BuildStep(cost, m, entries);
                break;
            case MeasurementKind.Request:
            case MeasurementKind.Summary:
                BuildRequest(cost, m, budget, entries);
                break;
            default:
                throw new CalibrationInputException($"{m.Source}: unknown measurement kind {m.Kind}");
        }
    }

    private static void BuildStep(GpuCostModel cost, Measurement m, List<Entry> entries)
    {
        int batch = m.BatchSize ?? throw Missing(m, "batch size");
        double seconds = m.StepSeconds ?? throw Missing(m, "step seconds");
        long prefill = m.PrefillTokens ?? 0;
        if (batch < 1 || prefill < 0)
        {
            throw new CalibrationInputException($"{m.Source}: a step needs a batch of at least 1 and no negative prefill, got batch {batch}, prefill {prefill}");
        }

        int decodes = batch - (prefill > 0 ? 1 : 0);
        long context = decodes > 0 ? m.ContextTokens ?? throw Missing(m, "context tokens (the step decodes)") : 0;
        Positive(m, "step seconds", seconds);
        var step = default(StepCost);
        for (int i = 0; i < decodes; i++)
        {
            step.AddDecode(context);
        }

        step.AddPrefill(prefill, 0);
        entries.Add(new Entry(m.Source, CalibratedQuantity.Step, seconds, false, [Priced(cost, step, batch, 1, prefill > 0, decodes > 0)]));
    }

    private static void BuildRequest(GpuCostModel cost, Measurement m, int budget, List<Entry> entries)
    {
        long prompt = m.PromptTokens ?? throw Missing(m, "prompt tokens");
        long output = m.OutputTokens ?? throw Missing(m, "output tokens");
        if (prompt < 1 || output < 1)
        {
            throw new CalibrationInputException($"{m.Source}: prompt and output need at least one token each, got {prompt} and {output}");
        }

        if (m.TtftSeconds is null && (m.ItlSeconds is null || output < 2))
        {
            throw Missing(m, "a TTFT or an ITL (with two or more output tokens)");
        }

        int users = (int)Math.Max(1, Math.Round(m.Concurrency ?? 1, MidpointRounding.AwayFromZero));
        long others = prompt + (output / 2);
        if (m.TtftSeconds is { } ttft)
        {
            Positive(m, "TTFT", ttft);
            long chunk = Math.Max(1, budget - (users - 1));
            var steps = new List<PricedStep>();
            for (long done = 0; done < prompt; done += chunk)
            {
                var step = default(StepCost);
                for (int i = 1; i < users; i++)
                {
                    step.AddDecode(others);
                }

                step.AddPrefill(Math.Min(chunk, prompt - done), done);
                steps.Add(Priced(cost, step, users, 1, true, users > 1));
            }

            entries.Add(new Entry(m.Source, CalibratedQuantity.Ttft, ttft, true, [.. steps]));
        }

        if (m.ItlSeconds is { } itl && output >= 2)
        {
            Positive(m, "ITL", itl);
            entries.Add(new Entry(m.Source, CalibratedQuantity.Itl, itl, false, users == 1 ? Alone(cost, prompt, output - 1) : [Batch(cost, users, others)]));
        }
    }

    // The O - 1 decode steps of a request alone, at contexts P .. P + O - 2, averaged.
    private static PricedStep[] Alone(GpuCostModel cost, long prompt, long decodes)
    {
        int segments = (int)Math.Min(decodes, MaxDecodeSegments);
        var steps = new PricedStep[segments];
        long first = 0;
        for (int s = 0; s < segments; s++)
        {
            long next = decodes * (s + 1) / segments;
            var low = Priced(cost, Decode(prompt + first), 1, 1, false, true);
            var high = Priced(cost, Decode(prompt + next - 1), 1, 1, false, true);
            // FLOPs and bytes grow linearly with the context: the segment's mean is the mean of its ends.
            steps[s] = low with
            {
                ComputeSeconds = (low.ComputeSeconds + high.ComputeSeconds) / 2,
                MemorySeconds = (low.MemorySeconds + high.MemorySeconds) / 2,
                Weight = (double)(next - first) / decodes,
            };
            first = next;
        }

        return steps;
    }

    private static PricedStep Batch(GpuCostModel cost, int users, long context)
    {
        var step = default(StepCost);
        for (int i = 0; i < users; i++)
        {
            step.AddDecode(context);
        }

        return Priced(cost, step, users, 1, false, true);
    }

    private static StepCost Decode(long context)
    {
        var step = default(StepCost);
        step.AddDecode(context);
        return step;
    }

    // Seconds at full utilisation: the cost model's GPU time splits into its compute and memory sides.
    private static PricedStep Priced(GpuCostModel cost, in StepCost step, int sequences, double weight, bool prefill, bool decode)
    {
        var deployment = cost.Deployment;
        int tp = deployment.TensorParallel;
        double bytes = cost.WeightBytesRead(step.Tokens) + (cost.KvBytesPerToken * step.KvTokensRead);
        return new PricedStep(
            cost.Flops(step) / (deployment.PeakFlopsPerGpu * tp),
            bytes / (deployment.Gpu.HbmBandwidth * tp),
            sequences,
            weight,
            prefill,
            decode);
    }

    private static void Positive(Measurement m, string field, double value)
    {
        if (!(value > 0) || double.IsInfinity(value))
        {
            throw new CalibrationInputException($"{m.Source}: {field} must be a positive number of seconds, got {value}");
        }
    }

    private static CalibrationInputException Missing(Measurement m, string what) =>
        new($"{m.Source}: a {m.Kind.ToString().ToLowerInvariant()} measurement needs {what} to be calibrated against");

    /// <summary>One step of a prediction: its GPU seconds at full utilisation (compute and memory), its sequences, its weight.</summary>
    private readonly record struct PricedStep(double ComputeSeconds, double MemorySeconds, int Sequences, double Weight, bool HasPrefill, bool HasDecode);

    /// <summary>One measured quantity: predicted = sum of weight x step seconds, plus r for a TTFT.</summary>
    private sealed record Entry(string Source, CalibratedQuantity Quantity, double Observed, bool IncludesRequestOverhead, PricedStep[] Steps);
}
