using static MockServe.Reliability.Frames.Http2Frames;

namespace MockServe.Reliability.Frames;

/// <summary>What one fuzzed connection sends: byte chunks written one after the other, and how it ends.</summary>
/// <param name="Kind">The scenario, for the counts.</param>
/// <param name="Chunks">Each chunk is written (and flushed) on its own, so frames can arrive split.</param>
/// <param name="Abort">Close with a TCP reset (linger 0) instead of an orderly close.</param>
internal sealed record FrameScript(string Kind, IReadOnlyList<byte[]> Chunks, bool Abort);

/// <summary>
/// Seeded HTTP/2 conversations for <see cref="FrameFuzzSuite"/>: a valid Generate call whose frames are then mutated
/// (flags, types, lengths, stream ids, bytes), frames no client may send, floods (pings, settings, rapid
/// open-and-reset), bad prefaces, random bytes, and connections cut with a reset.
/// </summary>
internal static class FrameFuzzer
{
    public static readonly string[] Kinds = ["mutated-call", "random-frames", "bad-hpack", "oversized-frame", "flood", "rapid-reset", "bad-preface", "random-bytes", "cut-mid-call"];

    public static FrameScript Next(Random random, string authority)
    {
        string kind = Kinds[random.Next(Kinds.Length)];
        var chunks = new List<byte[]>();
        if (kind != "bad-preface")
        {
            chunks.Add(Preface);
            chunks.Add(Frame(Settings, 0, 0, []));
        }

        switch (kind)
        {
            case "mutated-call":
                foreach (byte[] frame in Call(random, authority, 1))
                {
                    chunks.Add(random.Next(3) == 0 ? Mutate(random, frame) : frame);
                }

                break;
            case "random-frames":
                for (int i = random.Next(1, 16); i > 0; i--)
                {
                    chunks.Add(RandomFrame(random, authority));
                }

                break;
            case "bad-hpack":
                chunks.Add(Frame(Headers, EndHeaders, 1, BadHeaderBlock(random)));
                break;
            case "oversized-frame":
                // Past the 16,384-byte SETTINGS_MAX_FRAME_SIZE every endpoint starts with (RFC 9113 section 4.2).
                byte[] big = new byte[random.Next(16_385, 70_000)];
                random.NextBytes(big);
                chunks.Add(Frame(random.Next(2) == 0 ? Data : Headers, 0, 1, big));
                break;
            case "flood":
                byte type = random.Next(3) switch { 0 => Ping, 1 => Settings, _ => WindowUpdate };
                for (int i = random.Next(100, 2_000); i > 0; i--)
                {
                    chunks.Add(type switch
                    {
                        Ping => Frame(Ping, 0, 0, new byte[8]),
                        Settings => Frame(Settings, 0, 0, SettingsPayload((0x4, (uint)random.Next(65_535, int.MaxValue)))),
                        _ => Frame(WindowUpdate, 0, 0, UInt32Payload(1)),
                    });
                }

                break;
            case "rapid-reset":
                // Open a call and cancel it at once, many times over (CVE-2023-44487's pattern).
                for (uint stream = 1; stream < 2 * (uint)random.Next(50, 500); stream += 2)
                {
                    chunks.Add(Frame(Headers, EndHeaders, stream, GenerateHeaderBlock(authority)));
                    chunks.Add(Frame(Data, EndStream, stream, GrpcMessage(100, 5)));
                    chunks.Add(Frame(RstStream, 0, stream, UInt32Payload(0x8)));
                }

                break;
            case "bad-preface":
                byte[] preface = (byte[])Preface.Clone();
                preface[random.Next(preface.Length)] ^= (byte)(1 << random.Next(8));
                chunks.Add(preface[..random.Next(1, preface.Length + 1)]);
                chunks.Add(Frame(Settings, 0, 0, []));
                break;
            case "random-bytes":
                byte[] noise = new byte[random.Next(1, 4_096)];
                random.NextBytes(noise);
                chunks.Add(noise);
                break;
            default: // cut-mid-call: a valid call, half of its DATA frame, then a reset
                byte[][] call = Call(random, authority, 1);
                chunks.Add(call[0]);
                chunks.Add(call[1][..random.Next(1, call[1].Length)]);
                break;
        }

        // Split the stream at random points now and then: a frame header or payload arriving in two reads.
        if (random.Next(4) == 0 && chunks.Count > 2)
        {
            int at = random.Next(2, chunks.Count);
            byte[] chunk = chunks[at];
            if (chunk.Length > 1)
            {
                int cut = random.Next(1, chunk.Length);
                chunks[at] = chunk[..cut];
                chunks.Insert(at + 1, chunk[cut..]);
            }
        }

        return new FrameScript(kind, chunks, Abort: kind == "cut-mid-call" || random.Next(5) == 0);
    }

    /// <summary>A whole valid Generate call on <paramref name="stream"/>: HEADERS, then DATA with END_STREAM.</summary>
    public static byte[][] Call(Random random, string authority, uint stream) =>
    [
        Frame(Headers, EndHeaders, stream, GenerateHeaderBlock(authority)),
        Frame(Data, EndStream, stream, GrpcMessage(random.Next(1, 4_000), random.Next(1, 32))),
    ];

    private static byte[] Mutate(Random random, byte[] frame)
    {
        byte[] copy = (byte[])frame.Clone();
        switch (random.Next(7))
        {
            case 0: // flags: any bit, including PADDED and PRIORITY with no room for them
                copy[4] = (byte)random.Next(256);
                break;
            case 1: // type
                copy[3] = (byte)random.Next(256);
                break;
            case 2: // stream id: 0, even (server-initiated), the largest, or a random one
                uint id = random.Next(4) switch { 0 => 0u, 1 => 2u, 2 => 0x7FFF_FFFFu, _ => (uint)random.Next() };
                System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(copy.AsSpan(5), id | (random.Next(2) == 0 ? 0x8000_0000u : 0));
                break;
            case 3: // length field that lies
                int declared = random.Next(2) == 0 ? random.Next(0, copy.Length - 9 + 1) : random.Next(copy.Length - 9, 1 << 24);
                copy[0] = (byte)(declared >> 16);
                copy[1] = (byte)(declared >> 8);
                copy[2] = (byte)declared;
                break;
            case 4: // truncated
                return copy[..random.Next(1, copy.Length)];
            default: // bytes flipped anywhere
                for (int i = random.Next(1, 6); i > 0; i--)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                break;
        }

        return copy;
    }

    private static byte[] RandomFrame(Random random, string authority)
    {
        uint stream = (uint)((2 * random.Next(0, 8)) + 1);
        byte[] payload;
        switch (random.Next(12))
        {
            case 0:
                return Frame(Headers, (byte)(EndHeaders | (random.Next(2) == 0 ? EndStream : 0)), stream, GenerateHeaderBlock(authority));
            case 1:
                return Frame(Data, (byte)random.Next(2), stream, GrpcMessage(random.Next(1, 4_000), random.Next(1, 32)));
            case 2:
                payload = new byte[5];
                random.NextBytes(payload);
                return Frame(Priority, 0, random.Next(2) == 0 ? stream : 0, payload);
            case 3:
                return Frame(RstStream, 0, random.Next(4) == 0 ? 0 : stream, UInt32Payload((uint)random.Next(0, 14)));
            case 4:
                return Frame(Settings, (byte)random.Next(2), random.Next(4) == 0 ? stream : 0,
                    SettingsPayload(((ushort)random.Next(0, 10), (uint)random.NextInt64(0, uint.MaxValue + 1L))));
            case 5:
                payload = new byte[random.Next(4) == 0 ? random.Next(0, 16) : 8];
                return Frame(Ping, (byte)random.Next(2), random.Next(4) == 0 ? stream : 0, payload);
            case 6:
                payload = new byte[8 + random.Next(0, 32)];
                random.NextBytes(payload);
                return Frame(GoAway, 0, random.Next(4) == 0 ? stream : 0, payload);
            case 7:
                // 0 is a protocol error; 2^31 - 1 on top of the initial window overflows it.
                uint increment = random.Next(3) switch { 0 => 0u, 1 => 0x7FFF_FFFFu, _ => (uint)random.Next(1, 1 << 20) };
                return Frame(WindowUpdate, 0, random.Next(2) == 0 ? stream : 0, UInt32Payload(increment));
            case 8:
                return Frame(Continuation, (byte)(random.Next(2) == 0 ? EndHeaders : 0), stream, GenerateHeaderBlock(authority));
            case 9:
                // A client must never send PUSH_PROMISE (RFC 9113 section 8.4).
                payload = new byte[4 + random.Next(0, 16)];
                random.NextBytes(payload);
                return Frame(PushPromise, EndHeaders, stream, payload);
            case 10:
                payload = new byte[random.Next(0, 64)];
                random.NextBytes(payload);
                return Frame((byte)random.Next(10, 256), (byte)random.Next(256), (uint)random.Next(), payload); // unknown types are to be ignored
            default:
                return Frame(Headers, 0, stream, GenerateHeaderBlock(authority)); // no END_HEADERS: a CONTINUATION must follow
        }
    }

    private static byte[] BadHeaderBlock(Random random)
    {
        switch (random.Next(5))
        {
            case 0: // a dynamic table size update far beyond the 4,096 bytes allowed
                return HpackInteger((ulong)random.NextInt64(4_097, long.MaxValue), 5, 0x20);
            case 1: // an indexed field with index 0 or past both tables
                return HpackInteger(random.Next(2) == 0 ? 0UL : (ulong)random.Next(62, 100_000), 7, 0x80);
            case 2: // a string length longer than the block
                return [0x00, .. HpackInteger((ulong)random.Next(100, 1_000_000), 7, 0), 0x61, 0x62];
            case 3: // an integer that never ends
                return [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
            default:
                byte[] noise = new byte[random.Next(1, 512)];
                random.NextBytes(noise);
                return noise;
        }
    }
}
