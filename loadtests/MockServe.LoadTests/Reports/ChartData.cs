using MockServe.LoadTests.Measurement;

namespace MockServe.LoadTests.Reports;

/// <summary>Series over time for the charts, computed from the request samples alone.</summary>
internal static class ChartData
{
    /// <summary>One value per bucket of <paramref name="width"/> from the run's start, and each bucket's start in seconds.</summary>
    public sealed record Series(double[] Seconds, double[] Values);

    /// <summary>
    /// Requests in flight, averaged over each bucket: every request adds the part of the bucket its call
    /// (actual start to end) covers.
    /// </summary>
    public static Series InFlight(IReadOnlyList<RequestSample> samples, TimeSpan width, TimeSpan duration) =>
        Spread(samples, width, duration, s => (s.ActualStart, s.End, 1.0), perSecond: false);

    /// <summary>Output tokens per second of successful requests, each request's tokens spread evenly from its first to its last token.</summary>
    public static Series OutputTokensPerSecond(IReadOnlyList<RequestSample> samples, TimeSpan width, TimeSpan duration) =>
        Spread(
            samples.Where(s => s.Ok && s.FirstTokenAt is not null).ToArray(),
            width,
            duration,
            s => (s.FirstTokenAt!.Value, s.LastTokenAt!.Value, s.OutputTokens),
            perSecond: true);

    /// <summary>Successful requests per second, each counted in the bucket where it ended.</summary>
    public static Series RequestsPerSecond(IReadOnlyList<RequestSample> samples, TimeSpan width, TimeSpan duration)
    {
        var series = Empty(width, duration);
        foreach (var s in samples.Where(s => s.Ok))
        {
            int i = Math.Clamp((int)(s.End / width), 0, series.Values.Length - 1);
            series.Values[i] += 1 / width.TotalSeconds;
        }

        return series;
    }

    private static Series Spread(
        IReadOnlyList<RequestSample> samples,
        TimeSpan width,
        TimeSpan duration,
        Func<RequestSample, (TimeSpan From, TimeSpan To, double Amount)> interval,
        bool perSecond)
    {
        var series = Empty(width, duration);
        double w = width.TotalSeconds;
        foreach (var sample in samples)
        {
            var (from, to, amount) = interval(sample);
            double a = from.TotalSeconds;
            double b = Math.Max(a, to.TotalSeconds);
            if (b == a)
            {
                // An instant: all of it falls in one bucket.
                int i = Math.Clamp((int)(a / w), 0, series.Values.Length - 1);
                series.Values[i] += perSecond ? amount / w : 0;
                continue;
            }

            int first = Math.Max(0, (int)(a / w));
            int last = Math.Min(series.Values.Length - 1, (int)(b / w));
            for (int i = first; i <= last; i++)
            {
                double overlap = Math.Min(b, (i + 1) * w) - Math.Max(a, i * w);
                if (overlap > 0)
                {
                    // perSecond: the amount's share in this bucket per second; otherwise the share of the bucket covered.
                    series.Values[i] += perSecond ? amount * overlap / (b - a) / w : amount * overlap / w;
                }
            }
        }

        return series;
    }

    private static Series Empty(TimeSpan width, TimeSpan duration)
    {
        if (width <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(width), width, "Bucket width must be positive.");
        }

        int count = Math.Max(1, (int)Math.Ceiling(duration / width));
        return new Series([.. Enumerable.Range(0, count).Select(i => i * width.TotalSeconds)], new double[count]);
    }
}
