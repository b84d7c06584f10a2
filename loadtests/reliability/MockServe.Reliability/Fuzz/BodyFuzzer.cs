using Google.Protobuf;

using MockServe.Contracts.V1;

namespace MockServe.Reliability.Fuzz;

/// <summary>
/// Raw Generate bodies, most of them not valid protobuf: random bytes, valid messages cut short or with bytes
/// flipped, varints that never end, invalid UTF-8 in string fields, length prefixes longer than the body, wrong wire
/// types; and valid messages with unknown fields appended, which a server must skip.
/// </summary>
internal static class BodyFuzzer
{
    // Field numbers of GenerateRequest by wire type (protos/mockserve/v1/inference_service.proto).
    private static readonly int[] StringFields = [1, 2, 3, 8];
    private static readonly int[] VarintFields = [4, 5, 6, 7, 9, 12, 16];
    private static readonly int[] FloatFields = [10, 11, 13, 14, 15];

    private static readonly byte[][] InvalidUtf8 =
    [
        [0xFF],
        [0xC0, 0x80],             // overlong NUL
        [0xED, 0xA0, 0x80],       // a UTF-16 surrogate encoded in UTF-8
        [0xE2, 0x82],             // a 3-byte sequence cut short
        [0xF8, 0x88, 0x80, 0x80, 0x80], // 5-byte form, not UTF-8
        [0x61, 0x80, 0x62],       // a lone continuation byte
    ];

    public static readonly string[] Kinds = ["random-bytes", "truncated", "bit-flip", "bad-varint", "invalid-utf8", "oversized-length", "wrong-wire-type", "unknown-fields"];

    public static (string Kind, byte[] Body) Next(Random random)
    {
        string kind = Kinds[random.Next(Kinds.Length)];
        byte[] valid = ValidMessage(random).ToByteArray();
        byte[] body = kind switch
        {
            "random-bytes" => RandomBytes(random, random.Next(4) == 0 ? random.Next(0, 8) : random.Next(1, 512)),
            "truncated" => valid[..random.Next(0, valid.Length)],
            "bit-flip" => Flip(random, valid),
            "bad-varint" => Concat(valid, BadVarint(random)),
            "invalid-utf8" => Concat(valid, InvalidString(random)),
            "oversized-length" => Concat(valid, OversizedLength(random)),
            "wrong-wire-type" => Concat(valid, WrongWireType(random)),
            _ => Concat(valid, UnknownFields(random)),
        };
        return (kind, body);
    }

    /// <summary>A small request the server would accept: the base the malformed bodies are built on.</summary>
    public static GenerateRequest ValidMessage(Random random)
    {
        var request = new GenerateRequest { PromptTokens = random.Next(1, 2000), MaxTokens = random.Next(1, 16), IgnoreEos = random.Next(2) == 0 };
        if (random.Next(3) == 0)
        {
            request.SessionId = $"fuzz-{random.Next(100)}";
        }

        return request;
    }

    private static byte[] RandomBytes(Random random, int length)
    {
        byte[] bytes = new byte[length];
        random.NextBytes(bytes);
        return bytes;
    }

    private static byte[] Flip(Random random, byte[] valid)
    {
        byte[] copy = (byte[])valid.Clone();
        for (int i = random.Next(1, 5); i > 0 && copy.Length > 0; i--)
        {
            copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
        }

        return copy;
    }

    private static byte[] BadVarint(Random random)
    {
        var bytes = new List<byte>(Tag(VarintFields[random.Next(VarintFields.Length)], 0));
        // Continuation bit on every byte: 11 (longer than the 10 a 64-bit varint may take) or ending with the body.
        int length = random.Next(2) == 0 ? 11 : random.Next(1, 10);
        for (int i = 0; i < length; i++)
        {
            bytes.Add((byte)(0x80 | random.Next(0x80)));
        }

        return [.. bytes];
    }

    private static byte[] InvalidString(Random random)
    {
        byte[] bad = InvalidUtf8[random.Next(InvalidUtf8.Length)];
        byte[] text = Concat(RandomAscii(random, random.Next(0, 8)), bad, RandomAscii(random, random.Next(0, 8)));
        return Concat(Tag(StringFields[random.Next(StringFields.Length)], 2), Varint((ulong)text.Length), text);
    }

    private static byte[] OversizedLength(Random random)
    {
        int field = random.Next(2) == 0 ? StringFields[random.Next(StringFields.Length)] : random.Next(17, 1000);
        ulong length = random.Next(5) switch
        {
            0 => (ulong)random.Next(9, 1000),   // a little more than follows
            1 => int.MaxValue,
            2 => uint.MaxValue + 5UL,
            3 => ulong.MaxValue,
            _ => 64UL * 1024 * 1024,
        };
        return Concat(Tag(field, 2), Varint(length), RandomAscii(random, random.Next(0, 8)));
    }

    private static byte[] WrongWireType(Random random) => random.Next(6) switch
    {
        0 => Concat(Tag(StringFields[random.Next(StringFields.Length)], 0), Varint((ulong)random.NextInt64())),
        1 => Concat(Tag(VarintFields[random.Next(VarintFields.Length)], 2), Varint(3), RandomAscii(random, 3)),
        2 => Concat(Tag(FloatFields[random.Next(FloatFields.Length)], 1), RandomBytes(random, 8)),
        3 => Tag(random.Next(1, 20), 3 + random.Next(2)),            // a group start or end with no partner
        4 => Concat(Tag(random.Next(1, 20), 6 + random.Next(2)), RandomBytes(random, 4)), // wire types 6 and 7 do not exist
        _ => Concat(Varint((ulong)random.Next(8)), RandomBytes(random, 4)), // field number 0
    };

    private static byte[] UnknownFields(Random random)
    {
        var bytes = new List<byte>();
        for (int i = random.Next(1, 6); i > 0; i--)
        {
            int field = random.Next(2) == 0 ? random.Next(17, 100) : random.Next(100, 536_870_911);
            switch (random.Next(4))
            {
                case 0:
                    bytes.AddRange(Concat(Tag(field, 0), Varint((ulong)random.NextInt64())));
                    break;
                case 1:
                    bytes.AddRange(Concat(Tag(field, 1), RandomBytes(random, 8)));
                    break;
                case 2:
                    byte[] payload = RandomBytes(random, random.Next(0, 64));
                    bytes.AddRange(Concat(Tag(field, 2), Varint((ulong)payload.Length), payload));
                    break;
                default:
                    bytes.AddRange(Concat(Tag(field, 5), RandomBytes(random, 4)));
                    break;
            }
        }

        return [.. bytes];
    }

    private static byte[] RandomAscii(Random random, int length)
    {
        byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)random.Next(0x20, 0x7F);
        }

        return bytes;
    }

    private static byte[] Tag(int field, int wireType) => Varint(((ulong)field << 3) | (uint)wireType);

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>(10);
        while (value >= 0x80)
        {
            bytes.Add((byte)(value | 0x80));
            value >>= 7;
        }

        bytes.Add((byte)value);
        return [.. bytes];
    }

    private static byte[] Concat(params byte[][] parts)
    {
        byte[] all = new byte[parts.Sum(p => p.Length)];
        int at = 0;
        foreach (byte[] part in parts)
        {
            part.CopyTo(all, at);
            at += part.Length;
        }

        return all;
    }
}
