using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;

using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MockServe.Server.Hosting;

/// <summary>
/// HTTP/1.1 and h2c (HTTP/2 with prior knowledge, RFC 9113 section 3.3) on one cleartext port.
/// </summary>
/// <remarks>
/// Kestrel picks a connection's protocol from TLS's ALPN; a cleartext endpoint configured for both serves HTTP/1.1
/// alone (dotnet/aspnetcore#56984, still so in .NET 10), and the HTTP/1.1 and HTTP/2 connection handlers behind
/// <see cref="ListenOptions"/> cannot be built with public API. So the public port is HTTP/1.1 with a connection
/// middleware in front that peeks at the first bytes without consuming them: the 24-byte HTTP/2 client preface hands
/// the connection, as it is, to a second Kestrel endpoint configured for HTTP/2 only. That endpoint binds no socket:
/// this class is its transport, and its "accept" returns the connections handed over, so the bytes are never copied
/// or proxied and the request sees the public port's addresses (the OpenAI routes select on its local port).
/// Any first byte that is not the preface's is HTTP/1.1 at once; a client that stalls inside the preface is closed
/// after Kestrel's request-headers timeout, and one that closes is let go, without an error in the log.
/// </remarks>
internal sealed partial class CleartextHttp2Handoff : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<HandedOffConnection> _handedOff = Channel.CreateUnbounded<HandedOffConnection>(new UnboundedChannelOptions { SingleReader = true });

    /// <param name="time">The clock of the peek's timeout: real time (model time may run at any scale, or stand still in tests).</param>
    public CleartextHttp2Handoff(TimeProvider time, ILogger<CleartextHttp2Handoff> logger)
    {
        _time = time;
        _logger = logger;
    }

    /// <summary>The endpoint to configure for HTTP/2 with <see cref="KestrelServerOptions.Listen(EndPoint, Action{ListenOptions})"/>.</summary>
    public EndPoint EndPoint { get; } = new HandoffEndPoint();

    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    /// <summary>Sends the connections of <paramref name="listen"/> (an HTTP/1.1 endpoint) that open with the HTTP/2 preface to <see cref="EndPoint"/>.</summary>
    /// <param name="prefaceTimeout">How long a client may take to show which protocol it speaks (Kestrel's request-headers timeout).</param>
    public void Sniff(ListenOptions listen, TimeSpan prefaceTimeout)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ((HandoffEndPoint)EndPoint).Source = listen.EndPoint;
        listen.Use(http1 => connection => RouteAsync(connection, http1, prefaceTimeout));
    }

    public bool CanBind(EndPoint endpoint) => ReferenceEquals(endpoint, EndPoint);

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult<IConnectionListener>(new Listener(this));

    private async Task RouteAsync(ConnectionContext connection, ConnectionDelegate http1, TimeSpan prefaceTimeout)
    {
        bool? http2;
        using (var timeout = new CancellationTokenSource(prefaceTimeout, _time))
        using (var stop = CancellationTokenSource.CreateLinkedTokenSource(
            timeout.Token, connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default))
        {
            try
            {
                http2 = await StartsWithPrefaceAsync(connection.Transport.Input, stop.Token);
            }
            catch (OperationCanceledException)
            {
                Log.PrefaceIncomplete(_logger, connection.ConnectionId, timeout.IsCancellationRequested ? "timed out" : "server stopping");
                return;
            }
            catch (Exception ex) when (ex is IOException or ConnectionResetException or ConnectionAbortedException)
            {
                Log.PrefaceIncomplete(_logger, connection.ConnectionId, ex.Message);
                return;
            }
        }

        if (http2 is null)
        {
            // Closed before showing its protocol: nothing to answer.
            return;
        }

        if (http2 == false)
        {
            await http1(connection);
            return;
        }

        var handedOff = new HandedOffConnection(connection);
        if (_handedOff.Writer.TryWrite(handedOff))
        {
            // Kestrel disposes the socket when this middleware returns: not before the HTTP/2 endpoint is done with it.
            await handedOff.Done;
        }
    }

    /// <summary>
    /// True when the input opens with the preface, false at the first byte that differs, null when the input ends
    /// inside the preface. Consumes nothing.
    /// </summary>
    internal static async ValueTask<bool?> StartsWithPrefaceAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var head = buffer.Slice(0, Math.Min(buffer.Length, Preface.Length));
            bool matches = IsPrefixOfPreface(head);
            bool decided = !matches || head.Length == Preface.Length;
            // Undecided: examined to the end, so the next read waits for more bytes. Decided: nothing examined, so
            // the next reader (HTTP/1.1 or HTTP/2) is handed the bytes at once.
            input.AdvanceTo(buffer.Start, decided ? buffer.Start : buffer.End);
            if (decided)
            {
                return matches;
            }

            if (result.IsCompleted || result.IsCanceled)
            {
                return null;
            }
        }
    }

    private static bool IsPrefixOfPreface(in ReadOnlySequence<byte> head)
    {
        Span<byte> bytes = stackalloc byte[Preface.Length];
        head.CopyTo(bytes);
        return bytes[..(int)head.Length].SequenceEqual(Preface[..(int)head.Length]);
    }

    /// <summary>The HTTP/2 endpoint's listener: accepts what <see cref="RouteAsync"/> hands over.</summary>
    private sealed class Listener(CleartextHttp2Handoff owner) : IConnectionListener
    {
        public EndPoint EndPoint => owner.EndPoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await owner._handedOff.Reader.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException)
            {
                // Kestrel's accept loop ends on null.
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            owner._handedOff.Writer.TryComplete();
            // Handed over but never accepted: let their public-port connections close.
            while (owner._handedOff.Reader.TryRead(out var orphan))
            {
                orphan.Release();
            }

            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync() => UnbindAsync();
    }

    /// <summary>
    /// The public port's connection as the HTTP/2 endpoint sees it: the same transport and addresses, features of its
    /// own on top (the HTTP/2 endpoint's Kestrel sets its per-connection features here, not over the public port's).
    /// Disposing it only releases the public port's middleware, whose Kestrel owns and closes the socket.
    /// </summary>
    private sealed class HandedOffConnection(ConnectionContext inner) : ConnectionContext
    {
        private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Done => _done.Task;

        public override string ConnectionId { get => inner.ConnectionId; set => inner.ConnectionId = value; }

        public override IFeatureCollection Features { get; } = new FeatureCollection(inner.Features);

        public override IDictionary<object, object?> Items { get => inner.Items; set => inner.Items = value; }

        public override IDuplexPipe Transport { get => inner.Transport; set => inner.Transport = value; }

        public override EndPoint? LocalEndPoint { get => inner.LocalEndPoint; set => inner.LocalEndPoint = value; }

        public override EndPoint? RemoteEndPoint { get => inner.RemoteEndPoint; set => inner.RemoteEndPoint = value; }

        public override CancellationToken ConnectionClosed { get => inner.ConnectionClosed; set => inner.ConnectionClosed = value; }

        public override void Abort(ConnectionAbortedException abortReason) => inner.Abort(abortReason);

        public void Release() => _done.TrySetResult();

        public override ValueTask DisposeAsync()
        {
            Release();
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>Shown where Kestrel lists its addresses ("Now listening on: http://127.0.0.1:8000 (h2c)").</summary>
    private sealed class HandoffEndPoint : EndPoint
    {
        public EndPoint? Source { get; set; }

        public override string ToString() => $"{Source} (h2c)";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 40, Level = LogLevel.Debug, Message = "connection {ConnectionId} closed before its protocol was known: {Reason}")]
        public static partial void PrefaceIncomplete(ILogger logger, string connectionId, string reason);
    }
}
