using System.Text;
using System.Text.Json;
using Herald.Fuzz.Generators;
using Herald.Fuzz.Json;

namespace Herald.Fuzz.Publish;

/// <summary>
/// One publish request the fuzzer sends, and what the broker must answer. <see cref="Expected"/> is the status the
/// protocol (docs/protocol.md) prescribes when the request was built from plain values; it is <c>null</c> when
/// path tricks, other methods or odd headers make the exact status a matter of the HTTP stack (then any 4xx
/// problem is fine, and still no 5xx).
/// </summary>
public sealed record PublishCase(
    string Method,
    string PathAndQuery,
    string? Authorization,
    string[] IdempotencyKeys,
    string? ContentType,
    byte[] Body,
    bool Chunked,
    int? Expected,
    string Description);

/// <summary>Which credentials a request carries.</summary>
public sealed record FuzzTokens(string Sender, string OtherWorkspace, string OtherAccount, string Rotated, string Admin);

/// <summary>Builds random publish requests from seeded randomness; the same (seed, index) gives the same request.</summary>
public static class PublishGenerator
{
    private static readonly string[] ContentTypes =
    [
        "application/json", "application/json; charset=utf-8", "text/plain", "application/x-www-form-urlencoded",
        "application/json; charset=latin1", "multipart/form-data; boundary=x", "*/*", "application/problem+json", "garbage",
        ";;;", "application/json; charset=\"", "",
    ];

    private static readonly string[] Methods = ["GET", "DELETE", "PATCH", "HEAD", "OPTIONS"];

    private static readonly string[] PathTricks =
    [
        "..", ".", "%2e%2e", "%2E", "%2F", "a%2Fb", "%00", "a%00b", "%252F", "%C0%AE%C0%AE", "%ff", "%", "%zz", "a%",
        "", "~", "a;b", "a,b", "a:b", "@", "%20", "+", "*", "a//b", "%5C", "a%5Cb", "%uD800", "%E2%80%AE",
    ];

    public static PublishCase Generate(Random random, FuzzTokens tokens, long maxBody)
    {
        var predictable = true;
        var notes = new List<string>();

        // A third of the requests are near misses of a valid publish: each part goes wrong only now and then, so
        // plenty of requests reach the store and the checks late in the endpoint.
        var calm = random.Next(3) == 0;
        bool Plain() => calm && random.Next(8) != 0;

        // Where: account, workspace, key (each plain or a trick), and which prefix.
        var account = Plain() ? PlainSegment(FuzzBroker.Account, out var accountSegment) : Tenant(random, FuzzBroker.Account, ref predictable, out accountSegment);
        var workspace = Plain() ? PlainSegment(FuzzBroker.Workspace, out var workspaceSegment) : Tenant(random, FuzzBroker.Workspace, ref predictable, out workspaceSegment);
        var key = Plain() ? PlainSegment(FuzzBroker.SubscribedKeys[random.Next(2)], out var keySegment) : Key(random, ref predictable, out keySegment);

        static string PlainSegment(string value, out string segment)
        {
            segment = value;
            return value;
        }
        var prefix = random.Next(8) == 0 ? "/courier/v0" : "";
        var path = $"{prefix}/{accountSegment}/{workspaceSegment}/events/{keySegment}";
        if (random.Next(40) == 0)
        {
            path += random.Next(2) == 0 ? "/" : "/extra";
            predictable = false;
        }

        // The subject.
        var subject = "";
        var query = "";
        switch (Plain() ? 0 : random.Next(10))
        {
            case < 3:
                break;
            case < 8:
                subject = Strings.WellFormed(random.Next(10) == 0 ? new string('s', 1000 + random.Next(50)) : Strings.Any(random, 1100));
                query = "?resource=" + Uri.EscapeDataString(subject);
                break;
            case 8:
                query = "?sender=evil.app&resource=" + Uri.EscapeDataString(subject = "ok");
                break;
            default:
                query = "?" + random.Next(6) switch
                {
                    0 => "resource",
                    1 => "resource=%",
                    2 => "resource=a&resource=b",
                    3 => "resource=%00",
                    4 => "resource=%ff%fe",
                    _ => "resource=" + PathTricks[random.Next(PathTricks.Length)] + "&&=&",
                };
                predictable = false;
                break;
        }

        // The method.
        var method = random.Next(2) == 0 ? "PUT" : "POST";
        if (random.Next(30) == 0)
        {
            method = Methods[random.Next(Methods.Length)];
            predictable = false;
        }

        // The token.
        var (authorization, tokenTenant, tokenKind) = Plain()
            ? ("Bearer " + tokens.Sender, (FuzzBroker.Account, FuzzBroker.Workspace), "valid")
            : Authorization(random, tokens);
        notes.Add(tokenKind);

        // The idempotency key (0, 1 or 2 headers).
        string[] idempotencyKeys = random.Next(2) == 0 ? [] : [IdempotencyKey(random)];
        if (random.Next(40) == 0)
        {
            idempotencyKeys = [IdempotencyKey(random), IdempotencyKey(random)];
            predictable = false;
        }

        var contentType = random.Next(5) == 0 ? ContentTypes[random.Next(ContentTypes.Length)] : "application/json";
        var bodyKind = "json";
        var body = Plain() ? Encoding.UTF8.GetBytes(JsonText.Write(Document(random))) : Body(random, maxBody, out bodyKind);
        notes.Add(bodyKind);
        var chunked = random.Next(5) == 0;
        var bodyValid = IsOneObjectOrArray(body);

        if ((path + query).Length > 8000)
        {
            // Past Kestrel's request-line limit (8 KiB): Kestrel answers 414 itself.
            predictable = false;
        }

        int? expected = null;
        if (predictable)
        {
            var idempotency = idempotencyKeys.Length == 0 ? null : idempotencyKeys[0].Trim(' ', '\t');
            expected =
                !Names.IsAccount(account) || !Names.IsWorkspace(workspace) ? 400
                : tokenKind == "admin" ? 403
                : tokenTenant is null ? 401
                : tokenTenant != (account, workspace) ? 403
                : body.Length > maxBody ? 413
                : !Names.IsKey(key) ? 400
                : subject.Length > 1024 || subject.Any(c => c is < ' ' or > '~') ? 400
                : idempotency is { Length: > 0 } k && (k.Length > 255 || k.Any(c => c is < '!' or > '~')) ? 400
                : !bodyValid ? 400
                : 202;
        }

        var description = $"{method} {Shorten(path + query)} auth={notes[0]} idem={idempotencyKeys.Length} body={notes[1]} ({body.Length} bytes{(chunked ? ", chunked" : "")}) ct={contentType}";
        return new PublishCase(method, path + query, authorization, idempotencyKeys, contentType, body, chunked, expected, description);
    }

    /// <summary>
    /// Whether <paramref name="body"/> is valid UTF-8 holding exactly one JSON object or array, at most 64 deep: the
    /// oracle for the body rule, written independently of the broker's check (JsonDocument rather than a reader).
    /// </summary>
    public static bool IsOneObjectOrArray(byte[] body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
            return document.RootElement.ValueKind is JsonValueKind.Object or JsonValueKind.Array;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private static string Tenant(Random random, string usual, ref bool predictable, out string segment)
    {
        string value;
        switch (random.Next(20))
        {
            case < 14:
                value = usual;
                break;
            case 14:
                value = usual == FuzzBroker.Account ? FuzzBroker.OtherAccount : FuzzBroker.OtherWorkspace;
                break;
            case 15:
                value = Strings.Tenant(random);
                break;
            case 16:
                value = Strings.Mutate(random, usual);
                break;
            case 17:
                value = random.Next(2) == 0 ? new string('a', 63 + random.Next(3)) : usual.ToUpperInvariant();
                break;
            case 18:
                value = Strings.WellFormed(Strings.Any(random, 200));
                break;
            default:
                segment = PathTricks[random.Next(PathTricks.Length)];
                predictable = false;
                return segment;
        }

        if (value.Length == 0 || value is "." or ".." || value.Contains('\0', StringComparison.Ordinal))
        {
            // Empty and dot segments are the HTTP stack's to resolve; Kestrel refuses %00 in a path itself.
            predictable = false;
        }

        segment = Uri.EscapeDataString(value);
        return value;
    }

    private static string Key(Random random, ref bool predictable, out string segment)
    {
        string value;
        switch (random.Next(20))
        {
            case < 8:
                value = FuzzBroker.SubscribedKeys[random.Next(FuzzBroker.SubscribedKeys.Length)];
                break;
            case < 12:
                value = Strings.Key(random);
                break;
            case 12:
                value = new string('k', 127 + random.Next(4));
                break;
            case 13:
                value = new string('k', 1000 + random.Next(random.Next(4) == 0 ? 10_000 : 3000));
                break;
            case 14:
            case 15:
                value = Strings.Mutate(random, Strings.Key(random));
                break;
            case 16:
                value = Strings.WellFormed(Strings.Any(random, 300));
                break;
            case 17:
                value = "send-event" + Strings.Nasty[random.Next(Strings.Nasty.Length)];
                break;
            default:
                segment = random.Next(2) == 0
                    ? PathTricks[random.Next(PathTricks.Length)]
                    : "send-event" + PathTricks[random.Next(PathTricks.Length)];
                predictable = false;
                return segment;
        }

        if (value.Length == 0 || value is "." or ".." || value.Length > 4000 || value.Contains('\0', StringComparison.Ordinal))
        {
            // Empty and dot segments are the HTTP stack's to resolve; %00 and a request line longer than its limit
            // (8 KiB) Kestrel answers itself.
            predictable = false;
        }

        segment = Uri.EscapeDataString(value);
        return value;
    }

    private static (string? Header, (string, string)? Tenant, string Kind) Authorization(Random random, FuzzTokens tokens)
    {
        var home = (FuzzBroker.Account, FuzzBroker.Workspace);
        return random.Next(40) switch
        {
            < 24 => ("Bearer " + tokens.Sender, home, "valid"),
            24 => ("bearer " + tokens.Sender, home, "valid-lowercase"),
            25 => ("Bearer   " + tokens.Sender + "  ", home, "valid-spaces"),
            26 => (null, null, "none"),
            27 => ("Bearer " + tokens.OtherWorkspace, (FuzzBroker.Account, FuzzBroker.OtherWorkspace), "other-workspace"),
            28 => ("Bearer " + tokens.OtherAccount, (FuzzBroker.OtherAccount, FuzzBroker.Workspace), "other-account"),
            29 => ("Bearer " + tokens.Rotated, null, "rotated"),
            30 => ("Bearer " + tokens.Admin, null, "admin"),
            31 => ("Bearer " + Strings.Mutate(random, tokens.Sender).Where(c => c is >= ' ' and <= '~').Aggregate("", (s, c) => s + c).Trim() + "x", null, "near-miss"),
            32 => ("Bearer " + tokens.Sender.ToUpperInvariant(), null, "upper-case"),
            33 => ("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + tokens.Sender)), null, "basic"),
            34 => ("Bearer", null, "bearer-only"),
            35 => (tokens.Sender, null, "no-scheme"),
            36 => ("Bearer " + tokens.Sender[..(tokens.Sender.Length / 2)], null, "truncated"),
            37 => ("Bearer " + new string('x', random.Next(8000)), null, "random-long"),
            38 => ("Bearer " + Ascii(random, 1 + random.Next(80)).Trim(), null, "random"),
            _ => ("Bearer " + tokens.Sender + "\tx", null, "tab-suffix"),
        };
    }

    private static string IdempotencyKey(Random random) =>
        random.Next(10) switch
        {
            < 4 => "idem-" + random.Next(200),
            4 => new string('i', 254 + random.Next(4)),
            5 => new string('i', 256 + random.Next(2000)),
            6 => Ascii(random, 1 + random.Next(40)),
            7 => "has space " + random.Next(10),
            8 => (random.Next(2) == 0 ? "  " : "\t") + "idem-trim-" + random.Next(10) + " ",
            _ => random.Next(3) switch { 0 => "a\tb", 1 => "~!@#$%^&*()", _ => "\"quoted\"" },
        };

    private static string Ascii(Random random, int length)
    {
        var builder = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            builder.Append((char)random.Next(0x20, 0x7f));
        }

        return builder.ToString();
    }

    private static byte[] Body(Random random, long maxBody, out string kind)
    {
        switch (random.Next(20))
        {
            case < 8:
                kind = "json";
                return Encoding.UTF8.GetBytes(JsonText.Write(random.Next(3) == 0 ? JsonMutator.RandomValue(random, 3) : Document(random), JsonStyle.Random(random) with { Comments = false, TrailingCommas = false }));
            case 8:
                kind = "scalar";
                return Encoding.UTF8.GetBytes(random.Next(5) switch { 0 => "42", 1 => "\"text\"", 2 => "null", 3 => "true", _ => "-0.5e3" });
            case 9:
                kind = "empty";
                return random.Next(2) == 0 ? [] : " \n\t "u8.ToArray();
            case 10:
                kind = "invalid-json";
                return Encoding.UTF8.GetBytes(JsonMutator.MutateText(random, JsonText.Write(Document(random))));
            case 11:
                kind = "relaxed-json";
                return Encoding.UTF8.GetBytes(JsonText.Write(Document(random), new JsonStyle(false, false, random.Next(2) == 0, true)));
            case 12:
                kind = "invalid-utf8";
                var bytes = new List<byte>(Encoding.UTF8.GetBytes(JsonText.Write(Document(random))));
                bytes.InsertRange(1 + random.Next(Math.Max(1, bytes.Count - 2)), random.Next(3) switch { 0 => [0xff], 1 => [0xc0, 0x80], _ => [0xed, 0xa0, 0x80] });
                return [.. bytes];
            case 13:
                kind = "deep";
                var depth = random.Next(3) switch { 0 => 63 + random.Next(3), 1 => 1000 + random.Next(100_000), _ => random.Next(200) };
                var open = random.Next(2) == 0 ? "[" : "{\"a\":";
                var close = open == "[" ? "]" : "}";
                var text = new StringBuilder().Insert(0, open, depth).Append('1').Insert(open.Length * depth + 1, close, random.Next(5) == 0 ? depth / 2 : depth);
                return Encoding.UTF8.GetBytes(text.ToString());
            case 14:
            case 15:
                kind = "near-limit";
                var size = maxBody + random.Next(5) switch { 0 => -1, 1 => 0, 2 => 1, 3 => -random.Next(100), _ => random.Next(1, (int)maxBody * 2) };
                return Sized(random, size);
            case 16:
                kind = "bom";
                return [0xef, 0xbb, 0xbf, .. "{\"a\":1}"u8];
            case 17:
                kind = "two-documents";
                return Encoding.UTF8.GetBytes(random.Next(2) == 0 ? "{}{}" : "[1] [2]");
            case 18:
                kind = "random-bytes";
                var noise = new byte[random.Next(random.Next(4) == 0 ? (int)maxBody * 2 : 200)];
                random.NextBytes(noise);
                return noise;
            default:
                kind = "huge-string";
                return Encoding.UTF8.GetBytes("{\"s\":\"" + new string(Strings.Pick(random, "aé€😀"[..3]), random.Next((int)maxBody)) + "\"}");
        }
    }

    /// <summary>A valid JSON object of exactly <paramref name="size"/> bytes (padded with a string).</summary>
    private static byte[] Sized(Random random, long size)
    {
        const string head = "{\"pad\":\"";
        const string tail = "\"}";
        var pad = (int)Math.Max(0, size - head.Length - tail.Length);
        var body = head + new string(random.Next(2) == 0 ? 'p' : ' ', pad) + tail;
        return Encoding.UTF8.GetBytes(body);
    }

    private static JNode Document(Random random)
    {
        var doc = new JObject();
        for (var i = random.Next(6); i > 0; i--)
        {
            doc.Add(Strings.WellFormed(Strings.Any(random, 40)), JsonMutator.RandomValue(random, 2));
        }

        return random.Next(6) == 0 ? new JArray().Add(doc) : doc;
    }

    private static string Shorten(string value) => value.Length <= 120 ? value : value[..117] + "...";
}
