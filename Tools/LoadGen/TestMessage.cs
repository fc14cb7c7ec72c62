using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace ImOrleans.Tools.LoadGen;

/// <summary>The one payload every sender publishes, to ImOrleans and to the reference broker alike:
/// <c>{"id":"{run}-{sender}-{n}","seq":n,"body":"{send timestamp} xxx…"}</c>, the body 100 characters. ImOrleans
/// ignores <c>seq</c> and delivers <c>{"conv","seq","id","from","dev","body","ts"}</c> with its own gapless seq; the
/// reference broker passes the payload through. Either way a receiver finds a <c>seq</c> and the body's timestamp.</summary>
public static class TestMessage
{
    public const int BodyLength = 100;

    /// <param name="sentAt">a <see cref="System.Diagnostics.Stopwatch"/> timestamp; the receiver is in the same process</param>
    public static byte[] Build(string run, string sender, long seq, long sentAt)
    {
        var stamp = sentAt.ToString(CultureInfo.InvariantCulture);
        var body = string.Create(BodyLength, stamp, (span, s) =>
        {
            span.Fill('x');
            s.CopyTo(span);
            span[s.Length] = ' ';
        });
        return Encoding.UTF8.GetBytes($"{{\"id\":\"{run}-{sender}-{seq}\",\"seq\":{seq},\"body\":\"{body}\"}}");
    }

    /// <summary>The seq and send timestamp of a delivered payload, and its conversation (ImOrleans; null from the
    /// reference broker); false for anything else.</summary>
    public static bool TryRead(ReadOnlySequence<byte> payload, out string? conv, out long seq, out long sentAt)
    {
        (conv, seq, sentAt) = (null, 0, 0);
        var found = 0;
        try
        {
            var reader = new Utf8JsonReader(payload);
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return false;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                if (reader.ValueTextEquals("seq"u8))
                {
                    reader.Read();
                    seq = reader.GetInt64();
                    found |= 1;
                }
                else if (reader.ValueTextEquals("conv"u8))
                {
                    reader.Read();
                    conv = reader.GetString();
                }
                else if (reader.ValueTextEquals("body"u8))
                {
                    reader.Read();
                    // Utf8Parser stops at the space after the digits.
                    var body = reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan;
                    if (Utf8Parser.TryParse(body, out sentAt, out _))
                        found |= 2;
                }
                else
                {
                    reader.Skip();
                }
            }
        }
        catch (JsonException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
        return found == 3;
    }
}
