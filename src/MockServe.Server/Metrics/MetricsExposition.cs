using Prometheus;

namespace MockServe.Server.Metrics;

/// <summary>
/// The Prometheus text exposition of a registry. prometheus-net 8 refuses ':' in metric names, so vLLM's names are
/// created with the placeholder prefix <see cref="VllmPrefix"/> and turned back into <c>vllm:</c> on the way out.
/// </summary>
public static class MetricsExposition
{
    /// <summary>Stands for vLLM's "vllm:" in names until <see cref="ExportTextAsync"/> restores the colon.</summary>
    internal const string VllmPrefix = "vllm_";

    /// <summary>
    /// Writes <paramref name="registry"/> in the Prometheus text format with vLLM's metric names as vLLM spells
    /// them (<c>vllm:</c>). Serve /metrics with this instead of prometheus-net's exporter when vLLM names are on.
    /// </summary>
    public static async Task ExportTextAsync(CollectorRegistry registry, Stream destination, CancellationToken cancel = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(destination);
        using var buffer = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(buffer, cancel).ConfigureAwait(false);
        var text = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        RestoreVllmColons(text.Span);
        await destination.WriteAsync(text, cancel).ConfigureAwait(false);
    }

    internal static void RestoreVllmColons(Span<byte> text)
    {
        // Text format 0.0.4: a family's name starts a sample line or follows "# HELP " / "# TYPE ". Label values
        // and help texts escape their newlines, so every raw '\n' starts a new line.
        ReadOnlySpan<byte> prefix = "vllm_"u8;
        while (!text.IsEmpty)
        {
            int name = text.StartsWith("# HELP "u8) || text.StartsWith("# TYPE "u8) ? 7 : 0;
            if (text[name..].StartsWith(prefix))
            {
                text[name + prefix.Length - 1] = (byte)':';
            }

            int end = text.IndexOf((byte)'\n');
            text = end < 0 ? [] : text[(end + 1)..];
        }
    }
}
