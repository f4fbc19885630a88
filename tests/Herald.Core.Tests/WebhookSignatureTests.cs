using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Herald.Protocol;

namespace Herald.Core.Tests;

public sealed class WebhookSignatureTests
{
    private const string Id = "0190f3a2-5b7c-7def-8123-456789abcdef";
    private const long Timestamp = 1_718_000_000;

    private static readonly byte[] KeyBytes = Enumerable.Range(0, 32).Select(i => (byte)(i * 7 + 1)).ToArray();
    private static readonly string Secret = "whsec_" + Convert.ToBase64String(KeyBytes);
    private static readonly string OtherSecret = "whsec_" + Convert.ToBase64String(Enumerable.Repeat((byte)0x42, 32).ToArray());
    private static readonly byte[] Body = Encoding.UTF8.GetBytes("""{"liveUsers":42,"store":"acme"}""");
    private static readonly DateTimeOffset SentAt = DateTimeOffset.FromUnixTimeSeconds(Timestamp);
    private static readonly string TimestampText = Timestamp.ToString(CultureInfo.InvariantCulture);

    /// <summary>The signature computed here without Herald: HMAC-SHA256 over <c>{id}.{timestamp}.{body}</c>.</summary>
    private static string Expected(byte[] key, string id, long timestamp, byte[] body)
    {
        var message = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.").Concat(body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, message));
    }

    private static SignatureCheck Verify(string? signature, DateTimeOffset now, byte[]? body = null, string? id = Id, string? timestamp = null, IReadOnlyList<string>? secrets = null) =>
        WebhookSignature.Verify(secrets ?? [Secret], id, timestamp ?? TimestampText, signature, body ?? Body, now);

    [Fact]
    public void Sign_MatchesAnIndependentlyComputedHmac()
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);

        Assert.Equal(Expected(KeyBytes, Id, Timestamp, Body), signature);
        Assert.StartsWith("v1,", signature, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sign_ManyKeysInTurnOnManyThreads_EachMatchesAnIndependentlyComputedHmac()
    {
        // More keys than a thread keeps keyed, used in turn, so keyed states are made, reused and evicted throughout.
        var keys = Enumerable.Range(0, 20).Select(k => Enumerable.Range(0, 32).Select(i => (byte)(k * 31 + i)).ToArray()).ToArray();
        var bodies = Enumerable.Range(0, 20).Select(k => Encoding.UTF8.GetBytes($"{{\"n\":{k}}}")).ToArray();
        var expected = keys.Select((key, k) => Expected(key, Id, Timestamp, bodies[k])).ToArray();

        var wrong = await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            var mismatches = 0;
            for (var round = 0; round < 200; round++)
            {
                var k = (round * 7 + worker) % keys.Length;
                if (WebhookSignature.Sign(keys[k], Id, Timestamp, bodies[k]) != expected[k])
                {
                    mismatches++;
                }
            }

            return mismatches;
        })));

        Assert.All(wrong, mismatches => Assert.Equal(0, mismatches));
    }

    [Fact]
    public void Sign_IsDeterministic()
    {
        Assert.Equal(WebhookSignature.Sign(Secret, Id, Timestamp, Body), WebhookSignature.Sign(Secret, Id, Timestamp, Body));
    }

    [Fact]
    public void Sign_StandardWebhooksReferenceVector_Matches()
    {
        // The example from the Standard Webhooks specification's reference libraries.
        var body = Encoding.UTF8.GetBytes("""{"test": 2432232314}""");

        var signature = WebhookSignature.Sign("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);

        Assert.Equal("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", signature);
    }

    [Fact]
    public void Sign_SecretWithoutPrefix_IsTheSameKey()
    {
        Assert.Equal(
            WebhookSignature.Sign(Secret, Id, Timestamp, Body),
            WebhookSignature.Sign(Convert.ToBase64String(KeyBytes), Id, Timestamp, Body));
    }

    [Fact]
    public void Sign_DifferentInputs_GiveDifferentSignatures()
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);

        Assert.NotEqual(signature, WebhookSignature.Sign(OtherSecret, Id, Timestamp, Body));
        Assert.NotEqual(signature, WebhookSignature.Sign(Secret, Id + "x", Timestamp, Body));
        Assert.NotEqual(signature, WebhookSignature.Sign(Secret, Id, Timestamp + 1, Body));
        Assert.NotEqual(signature, WebhookSignature.Sign(Secret, Id, Timestamp, Body.Append((byte)' ').ToArray()));
    }

    [Fact]
    public void NewSecret_IsPrefixedRandom256Bits()
    {
        var a = WebhookSignature.NewSecret();
        var b = WebhookSignature.NewSecret();

        Assert.StartsWith(WebhookSignature.SecretPrefix, a, StringComparison.Ordinal);
        Assert.Equal(32, Convert.FromBase64String(a[WebhookSignature.SecretPrefix.Length..]).Length);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Verify_OwnSignature_IsValid()
    {
        Assert.Equal(SignatureCheck.Valid, Verify(WebhookSignature.Sign(Secret, Id, Timestamp, Body), SentAt));
    }

    [Fact]
    public void Verify_IndependentSignature_IsValid()
    {
        Assert.Equal(SignatureCheck.Valid, Verify(Expected(KeyBytes, Id, Timestamp, Body), SentAt.AddSeconds(3)));
    }

    [Fact]
    public void Verify_EmptyBody_IsValid()
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, []);

        Assert.Equal(SignatureCheck.Valid, Verify(signature, SentAt, body: []));
    }

    [Theory]
    [InlineData(null, "1718000000", "v1,abc")]
    [InlineData("", "1718000000", "v1,abc")]
    [InlineData("msg", null, "v1,abc")]
    [InlineData("msg", "", "v1,abc")]
    [InlineData("msg", "1718000000", null)]
    [InlineData("msg", "1718000000", "")]
    public void Verify_MissingHeader_IsMissing(string? id, string? timestamp, string? signature)
    {
        Assert.Equal(SignatureCheck.Missing, WebhookSignature.Verify([Secret], id, timestamp, signature, Body, SentAt));
    }

    [Theory]
    [InlineData("yesterday")]
    [InlineData("-1718000000")]
    [InlineData("1718000000.5")]
    [InlineData(" 1718000000")]
    [InlineData("+1718000000")]
    [InlineData("1e9")]
    [InlineData("99999999999999999999")]
    public void Verify_BadTimestamp_IsBadTimestamp(string timestamp)
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);

        Assert.Equal(SignatureCheck.BadTimestamp, Verify(signature, SentAt, timestamp: timestamp));
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    [InlineData(86_400)]
    [InlineData(-86_400)]
    public void Verify_MoreThanFiveMinutesEitherWay_IsExpired(int offsetSeconds)
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);

        Assert.Equal(SignatureCheck.Expired, Verify(signature, SentAt.AddSeconds(offsetSeconds)));
    }

    [Theory]
    [InlineData(-300)]
    [InlineData(300)]
    [InlineData(-299)]
    [InlineData(0)]
    public void Verify_WithinFiveMinutesEitherWay_IsValid(int offsetSeconds)
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);

        Assert.Equal(SignatureCheck.Valid, Verify(signature, SentAt.AddSeconds(offsetSeconds)));
    }

    [Fact]
    public void Verify_TimestampPastTheCalendar_IsExpiredNotAnException()
    {
        Assert.Equal(SignatureCheck.Expired, Verify("v1,abc", SentAt, timestamp: "9223372036854775807"));
    }

    [Fact]
    public void Verify_WrongSecret_IsMismatch()
    {
        var signature = WebhookSignature.Sign(OtherSecret, Id, Timestamp, Body);

        Assert.Equal(SignatureCheck.Mismatch, Verify(signature, SentAt));
    }

    [Fact]
    public void Verify_AlteredBody_IsMismatch()
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);
        var altered = (byte[])Body.Clone();
        altered[^2] ^= 1;

        Assert.Equal(SignatureCheck.Mismatch, Verify(signature, SentAt, body: altered));
    }

    [Fact]
    public void Verify_AlteredIdOrTimestamp_IsMismatch()
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);

        Assert.Equal(SignatureCheck.Mismatch, Verify(signature, SentAt, id: "another-id"));
        Assert.Equal(SignatureCheck.Mismatch, Verify(signature, SentAt, timestamp: (Timestamp + 1).ToString(CultureInfo.InvariantCulture)));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("v1,")]
    [InlineData("v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")]
    public void Verify_MalformedSignature_IsMismatch(string signature)
    {
        Assert.Equal(SignatureCheck.Mismatch, Verify(signature, SentAt));
    }

    [Fact]
    public void Verify_SignatureWithoutVersionPrefix_IsMismatch()
    {
        var signature = WebhookSignature.Sign(Secret, Id, Timestamp, Body);

        Assert.Equal(SignatureCheck.Mismatch, Verify(signature["v1,".Length..], SentAt));
    }

    [Fact]
    public void Verify_DuringRotation_AcceptsEitherSecret()
    {
        IReadOnlyList<string> both = [Secret, OtherSecret];

        Assert.Equal(SignatureCheck.Valid, Verify(WebhookSignature.Sign(Secret, Id, Timestamp, Body), SentAt, secrets: both));
        Assert.Equal(SignatureCheck.Valid, Verify(WebhookSignature.Sign(OtherSecret, Id, Timestamp, Body), SentAt, secrets: both));
    }

    [Fact]
    public void Verify_DuringRotation_SignatureFromNeitherSecret_IsMismatch()
    {
        var third = "whsec_" + Convert.ToBase64String(new byte[32]);

        Assert.Equal(SignatureCheck.Mismatch, Verify(WebhookSignature.Sign(third, Id, Timestamp, Body), SentAt, secrets: [Secret, OtherSecret]));
    }

    [Fact]
    public void Verify_NoSecrets_IsMismatch()
    {
        Assert.Equal(SignatureCheck.Mismatch, Verify(WebhookSignature.Sign(Secret, Id, Timestamp, Body), SentAt, secrets: []));
    }

    [Fact]
    public void Verify_SeveralSpaceSeparatedSignatures_AcceptsAnyMatchingOne()
    {
        var good = WebhookSignature.Sign(Secret, Id, Timestamp, Body);
        var other = WebhookSignature.Sign(OtherSecret, Id, Timestamp, Body);

        Assert.Equal(SignatureCheck.Valid, Verify($"{other} {good}", SentAt));
        Assert.Equal(SignatureCheck.Valid, Verify($"{good} {other}", SentAt));
        Assert.Equal(SignatureCheck.Valid, Verify($"v1,bm90LWEtc2ln  {good} ", SentAt));
        Assert.Equal(SignatureCheck.Mismatch, Verify($"{other} v1,bm90LWEtc2ln", SentAt));
    }
}
