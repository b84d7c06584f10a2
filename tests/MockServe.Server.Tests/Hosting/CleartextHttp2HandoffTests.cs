using System.IO.Pipelines;
using System.Text;

using MockServe.Server.Hosting;

namespace MockServe.Server.Tests.Hosting;

/// <summary>Telling the HTTP/2 preface from HTTP/1.1 on a pipe, as the OpenAI port's connection middleware does.</summary>
public class CleartextHttp2HandoffTests
{
    private const string Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    [Fact]
    public async Task StartsWithPreface_FirstByteNotP_Http1AtOnce()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("G"));

        // One byte, the writer still open: the answer needs no more input.
        var http2 = await CleartextHttp2Handoff.StartsWithPrefaceAsync(pipe.Reader, CancellationToken.None);

        Assert.False(http2);
        Assert.Equal("G", await ReadAllAsync(pipe));
    }

    [Fact]
    public async Task StartsWithPreface_PrefaceInPieces_Http2WithNothingConsumed()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(Preface[..5]));

        var sniffing = CleartextHttp2Handoff.StartsWithPrefaceAsync(pipe.Reader, CancellationToken.None).AsTask();
        await Task.Yield();
        bool waitedForMore = !sniffing.IsCompleted;
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes(Preface[5..] + "frames"));

        Assert.True(waitedForMore);
        Assert.True(await sniffing);
        Assert.Equal(Preface + "frames", await ReadAllAsync(pipe));
    }

    [Fact]
    public async Task StartsWithPreface_DiffersInsidePreface_Http1()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("PRIVATE / HTTP/1.1\r\n"));

        var http2 = await CleartextHttp2Handoff.StartsWithPrefaceAsync(pipe.Reader, CancellationToken.None);

        Assert.False(http2);
    }

    [Fact]
    public async Task StartsWithPreface_ClosedInsidePreface_Undecided()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("PRI * HT"));
        await pipe.Writer.CompleteAsync();

        var http2 = await CleartextHttp2Handoff.StartsWithPrefaceAsync(pipe.Reader, CancellationToken.None);

        Assert.Null(http2);
    }

    [Fact]
    public async Task StartsWithPreface_ClientStallsInsidePreface_EndsWhenCancelled()
    {
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.ASCII.GetBytes("PRI"));
        using var stop = new CancellationTokenSource();

        var sniffing = CleartextHttp2Handoff.StartsWithPrefaceAsync(pipe.Reader, stop.Token).AsTask();
        await Task.Yield();
        bool waiting = !sniffing.IsCompleted;
        await stop.CancelAsync();

        Assert.True(waiting);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sniffing);
    }

    /// <summary>What the next reader of the pipe (Kestrel's HTTP/1.1 or HTTP/2 handler) gets.</summary>
    private static async Task<string> ReadAllAsync(Pipe pipe)
    {
        await pipe.Writer.CompleteAsync();
        var result = await pipe.Reader.ReadAsync();
        while (!result.IsCompleted)
        {
            pipe.Reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            result = await pipe.Reader.ReadAsync();
        }

        return Encoding.ASCII.GetString(result.Buffer);
    }
}
