namespace MockServe.Core.Calibration;

/// <summary>Collects measurements up to a cap, and counts the records a reader leaves out.</summary>
internal sealed class MeasurementSink(string file, int max)
{
    private readonly List<Measurement> _items = [];

    public string File { get; } = file;

    public int Skipped { get; private set; }

    public IReadOnlyList<Measurement> Items => _items;

    public void Add(Measurement measurement)
    {
        if (_items.Count >= max)
        {
            throw new CalibrationInputException(
                $"{File}: more than {max:N0} measurements; the limit is {max:N0} (at {measurement.Source}): split the file or sample it.");
        }

        _items.Add(measurement);
    }

    public void Skip() => Skipped++;
}
