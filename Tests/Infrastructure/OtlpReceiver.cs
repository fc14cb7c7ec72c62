using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;

namespace ImOrleans.Tests.Infrastructure;

/// <summary>A stand-in OpenTelemetry collector: takes OTLP/HTTP protobuf exports on loopback and keeps the spans'
/// trace id and name. Reads the protobuf wire format by field number (ExportTraceServiceRequest → ResourceSpans(1)
/// → ScopeSpans(2) → Span(2): trace_id 1, name 5), so no OTLP types are needed.</summary>
public sealed class OtlpReceiver : IDisposable
{
    public sealed record Span(string TraceId, string Name);

    private readonly HttpListener _listener = new();
    private readonly ConcurrentQueue<Span> _spans = new();

    public string Endpoint { get; }

    public IReadOnlyList<Span> Spans => [.. _spans];

    public OtlpReceiver()
    {
        var port = FreePort.Next();
        Endpoint = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add($"{Endpoint}/");
        _listener.Start();
        _ = Task.Run(ServeAsync);
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.Url?.AbsolutePath == "/v1/traces")
                Read(ByteString.CopyFrom(body.ToArray()), depth: 0);
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.Close();
        }
    }

    /// <summary>Walks request (depth 0), ResourceSpans (1), ScopeSpans (2) down to the spans (3).</summary>
    private void Read(ByteString message, int depth)
    {
        var input = message.CreateCodedInput();
        string? traceId = null, name = null;
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var field = WireFormat.GetTagFieldNumber(tag);
            if (WireFormat.GetTagWireType(tag) != WireFormat.WireType.LengthDelimited)
            {
                input.SkipLastField();
                continue;
            }
            var bytes = input.ReadBytes();
            switch (depth, field)
            {
                case (0, 1) or (1, 2) or (2, 2):
                    Read(bytes, depth + 1);
                    break;
                case (3, 1):
                    traceId = Convert.ToHexString(bytes.ToByteArray());
                    break;
                case (3, 5):
                    name = bytes.ToStringUtf8();
                    break;
            }
        }
        if (depth == 3 && traceId is not null && name is not null)
            _spans.Enqueue(new Span(traceId, name));
    }

    public void Dispose() => _listener.Close();
}
