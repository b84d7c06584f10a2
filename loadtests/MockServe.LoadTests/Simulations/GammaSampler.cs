namespace MockServe.LoadTests.Simulations;

/// <summary>Gamma(shape, 1) variates from a seeded <see cref="Random"/>.</summary>
internal static class GammaSampler
{
    /// <summary>
    /// Marsaglia and Tsang, "A simple method for generating gamma variables", ACM TOMS 26(3), 2000: for shape >= 1,
    /// d = shape - 1/3, c = 1/sqrt(9d), accept d v with v = (1 + c x)^3, x standard normal; for shape &lt; 1, their
    /// boost Gamma(shape + 1) U^(1/shape). Shape 1 is the exponential, drawn directly as -ln(1 - U).
    /// </summary>
    public static double Next(Random random, double shape)
    {
        if (shape == 1)
        {
            return -Math.Log(1 - random.NextDouble());
        }

        if (shape < 1)
        {
            double u = 1 - random.NextDouble();
            return Next(random, shape + 1) * Math.Pow(u, 1 / shape);
        }

        double d = shape - (1.0 / 3);
        double c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x = StandardNormal(random);
            double v = 1 + (c * x);
            if (v <= 0)
            {
                continue;
            }

            v = v * v * v;
            double u = 1 - random.NextDouble();
            double x2 = x * x;
            if (u < 1 - (0.0331 * x2 * x2) || Math.Log(u) < (0.5 * x2) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    // Box-Muller; the second variate is thrown away to keep the sampler stateless.
    private static double StandardNormal(Random random)
    {
        double u1 = 1 - random.NextDouble();
        double u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
