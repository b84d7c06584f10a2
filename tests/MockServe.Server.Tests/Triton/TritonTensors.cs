using System.Buffers.Binary;
using System.Text;

using Google.Protobuf;

namespace MockServe.Server.Tests.Triton;

/// <summary>Tensor elements written and read by hand, as the protocol defines them, not with the server's code.</summary>
internal static class TritonTensors
{
    /// <summary>A BYTES element: 4-byte little-endian length, then the UTF-8 bytes.</summary>
    public static ByteString Element(string text)
    {
        byte[] utf8 = Encoding.UTF8.GetBytes(text);
        byte[] element = new byte[4 + utf8.Length];
        BinaryPrimitives.WriteInt32LittleEndian(element, utf8.Length);
        utf8.CopyTo(element, 4);
        return ByteString.CopyFrom(element);
    }

    /// <summary>A BOOL element: one byte.</summary>
    public static ByteString Bool(bool value) => ByteString.CopyFrom(value ? (byte)1 : (byte)0);

    /// <summary>The text of one BYTES element, checking that its length prefix covers the rest exactly.</summary>
    public static string Decode(ByteString element)
    {
        var span = element.Span;
        Assert.Equal(span.Length - 4, BinaryPrimitives.ReadInt32LittleEndian(span));
        return Encoding.UTF8.GetString(span[4..]);
    }
}
