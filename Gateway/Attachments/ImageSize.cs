using System.Buffers.Binary;

namespace ImOrleans.Gateway.Attachments;

/// <summary>Width and height from the header of a PNG, GIF, WebP or JPEG file, without decoding it. Null when the
/// bytes are none of these or are cut short.</summary>
public static class ImageSize
{
    public static (int Width, int Height)? Read(ReadOnlySpan<byte> b)
    {
        try
        {
            return Png(b) ?? Gif(b) ?? WebP(b) ?? Jpeg(b);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null; // a header cut short
        }
    }

    // Signature, then the IHDR chunk: width and height as 32-bit big-endian at 16 and 20.
    private static (int, int)? Png(ReadOnlySpan<byte> b) =>
        b.Length >= 24 && b[..8].SequenceEqual((ReadOnlySpan<byte>)[0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) && b.Slice(12, 4).SequenceEqual("IHDR"u8)
            ? (BinaryPrimitives.ReadInt32BigEndian(b[16..]), BinaryPrimitives.ReadInt32BigEndian(b[20..]))
            : null;

    // "GIF87a"/"GIF89a", then the logical screen: 16-bit little-endian width and height.
    private static (int, int)? Gif(ReadOnlySpan<byte> b) =>
        b.Length >= 10 && (b[..6].SequenceEqual("GIF87a"u8) || b[..6].SequenceEqual("GIF89a"u8))
            ? (BinaryPrimitives.ReadUInt16LittleEndian(b[6..]), BinaryPrimitives.ReadUInt16LittleEndian(b[8..]))
            : null;

    // RIFF container; the first chunk says which of the three WebP forms it is.
    private static (int, int)? WebP(ReadOnlySpan<byte> b)
    {
        if (b.Length < 30 || !b[..4].SequenceEqual("RIFF"u8) || !b.Slice(8, 4).SequenceEqual("WEBP"u8))
            return null;
        var chunk = b.Slice(12, 4);
        if (chunk.SequenceEqual("VP8 "u8)) // lossy: 14-bit sizes after the frame tag and start code
            return (BinaryPrimitives.ReadUInt16LittleEndian(b[26..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(b[28..]) & 0x3FFF);
        if (chunk.SequenceEqual("VP8L"u8)) // lossless: after the 0x2F signature, 14 bits each of width-1 and height-1
        {
            var bits = BinaryPrimitives.ReadUInt32LittleEndian(b[21..]);
            return ((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1);
        }
        if (chunk.SequenceEqual("VP8X"u8)) // extended: 24-bit canvas width-1 and height-1
            return (Int24(b[24..]) + 1, Int24(b[27..]) + 1);
        return null;
    }

    private static int Int24(ReadOnlySpan<byte> b) => b[0] | (b[1] << 8) | (b[2] << 16);

    // Segments from the SOI marker on, until a start-of-frame: its height and width are 16-bit big-endian.
    private static (int, int)? Jpeg(ReadOnlySpan<byte> b)
    {
        if (b.Length < 4 || b[0] != 0xFF || b[1] != 0xD8)
            return null;
        var i = 2;
        while (i + 4 <= b.Length)
        {
            if (b[i] != 0xFF)
                return null;
            var marker = b[i + 1];
            if (marker == 0xFF) // fill byte
            {
                i++;
                continue;
            }
            if (marker is 0x01 or (>= 0xD0 and <= 0xD7)) // no length
            {
                i += 2;
                continue;
            }
            // SOF0-SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
            if (marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC)
                return (BinaryPrimitives.ReadUInt16BigEndian(b[(i + 7)..]), BinaryPrimitives.ReadUInt16BigEndian(b[(i + 5)..]));
            if (marker is 0xD9 or 0xDA) // end of image, or scan data before any frame header
                return null;
            i += 2 + BinaryPrimitives.ReadUInt16BigEndian(b[(i + 2)..]);
        }
        return null;
    }
}
