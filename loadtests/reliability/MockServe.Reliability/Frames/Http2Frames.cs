using System.Buffers.Binary;
using System.Text;

using Google.Protobuf;

using MockServe.Contracts.V1;

namespace MockServe.Reliability.Frames;

/// <summary>
/// HTTP/2 frames built by hand (RFC 9113 section 4.1: 24-bit length, type, flags, 31-bit stream id) and header blocks
/// in the simplest HPACK form (RFC 7541 section 6.2.2: literal, not indexed, no Huffman), so the fuzzer can send
/// exactly the bytes it means to, valid or not.
/// </summary>
internal static class Http2Frames
{
    public const byte Data = 0x0;
    public const byte Headers = 0x1;
    public const byte Priority = 0x2;
    public const byte RstStream = 0x3;
    public const byte Settings = 0x4;
    public const byte PushPromise = 0x5;
    public const byte Ping = 0x6;
    public const byte GoAway = 0x7;
    public const byte WindowUpdate = 0x8;
    public const byte Continuation = 0x9;

    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte PriorityFlag = 0x20;

    public static readonly byte[] Preface = Encoding.ASCII.GetBytes("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");

    public static byte[] Frame(byte type, byte flags, uint streamId, ReadOnlySpan<byte> payload) =>
        Frame(type, flags, streamId, payload, payload.Length);

    /// <summary>A frame whose length field says <paramref name="declaredLength"/>, whatever the payload's real length.</summary>
    public static byte[] Frame(byte type, byte flags, uint streamId, ReadOnlySpan<byte> payload, int declaredLength)
    {
        byte[] frame = new byte[9 + payload.Length];
        frame[0] = (byte)(declaredLength >> 16);
        frame[1] = (byte)(declaredLength >> 8);
        frame[2] = (byte)declaredLength;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame.AsSpan(9));
        return frame;
    }

    /// <summary>A SETTINGS payload: (identifier, value) pairs, six bytes each.</summary>
    public static byte[] SettingsPayload(params (ushort Id, uint Value)[] settings)
    {
        byte[] payload = new byte[6 * settings.Length];
        for (int i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(6 * i), settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((6 * i) + 2), settings[i].Value);
        }

        return payload;
    }

    public static byte[] UInt32Payload(uint value)
    {
        byte[] payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, value);
        return payload;
    }

    /// <summary>The header block of a gRPC call to Generate, every field a literal without indexing.</summary>
    public static byte[] GenerateHeaderBlock(string authority)
    {
        var block = new List<byte>();
        foreach (var (name, value) in new[]
        {
            (":method", "POST"), (":scheme", "http"), (":path", "/mockserve.v1.InferenceService/Generate"),
            (":authority", authority), ("content-type", "application/grpc"), ("te", "trailers"),
        })
        {
            block.Add(0x00);
            AddString(block, name);
            AddString(block, value);
        }

        return [.. block];
    }

    /// <summary>A gRPC message (RFC-less but fixed: compressed flag, 32-bit big-endian length, the bytes) of a small Generate request.</summary>
    public static byte[] GrpcMessage(long promptTokens, long maxTokens)
    {
        byte[] message = new GenerateRequest { PromptTokens = promptTokens, MaxTokens = maxTokens, IgnoreEos = true }.ToByteArray();
        byte[] framed = new byte[5 + message.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed.AsSpan(1), (uint)message.Length);
        message.CopyTo(framed.AsSpan(5));
        return framed;
    }

    /// <summary>An HPACK integer with an N-bit prefix (RFC 7541 section 5.1), the prefix bits above N set to <paramref name="high"/>.</summary>
    public static byte[] HpackInteger(ulong value, int prefixBits, byte high)
    {
        ulong max = (1UL << prefixBits) - 1;
        if (value < max)
        {
            return [(byte)(high | (byte)value)];
        }

        var bytes = new List<byte> { (byte)(high | (byte)max) };
        value -= max;
        while (value >= 128)
        {
            bytes.Add((byte)((value % 128) + 128));
            value /= 128;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static void AddString(List<byte> block, string text)
    {
        byte[] bytes = Encoding.ASCII.GetBytes(text);
        block.AddRange(HpackInteger((ulong)bytes.Length, 7, 0));
        block.AddRange(bytes);
    }
}
