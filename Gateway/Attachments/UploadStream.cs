using ImOrleans.Models;

namespace ImOrleans.Gateway.Attachments;

/// <summary>An upload's bytes past the size limit.</summary>
public sealed class AttachmentTooLargeException(long limit) : Exception($"an attachment is limited to {limit} bytes")
{
    public long Limit { get; } = limit;
}

/// <summary>The request body of an upload as the store reads it: counted, cut off past the limit (the client may send
/// no length, or a wrong one), and with its first bytes kept to read an image's dimensions.</summary>
public sealed class UploadStream(Stream inner, long maxBytes) : Stream
{
    // Enough for the size fields of PNG/GIF/WebP (the first 30 bytes) and of a JPEG behind its EXIF segments.
    private const int HeaderBytes = 256 * 1024;
    private readonly MemoryStream _header = new();

    public long BytesRead { get; private set; }

    /// <summary>The descriptor of what was read, once it was read to the end.</summary>
    public AttachmentInfo Describe(string id, string name, string type)
    {
        var size = type.StartsWith("image/", StringComparison.OrdinalIgnoreCase) ? ImageSize.Read(_header.GetBuffer().AsSpan(0, (int)_header.Length)) : null;
        return new AttachmentInfo(id, name, type, BytesRead, size?.Width, size?.Height);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken);
        Count(buffer.Span[..n]);
        return n;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count)
    {
        var n = inner.Read(buffer, offset, count);
        Count(buffer.AsSpan(offset, n));
        return n;
    }

    private void Count(ReadOnlySpan<byte> read)
    {
        BytesRead += read.Length;
        if (BytesRead > maxBytes)
            throw new AttachmentTooLargeException(maxBytes);
        if (_header.Length < HeaderBytes)
            _header.Write(read[..(int)Math.Min(read.Length, HeaderBytes - _header.Length)]);
    }

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }
    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
