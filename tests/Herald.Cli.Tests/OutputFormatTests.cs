using System.Text.Json;
using Herald.Broker.Admin;
using Herald.Cli.Commands;

namespace Herald.Cli.Tests;

public sealed class OutputFormatTests : IDisposable
{
    private readonly CliHarness _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public void TextTable_PadsColumnsAndAlignsNumbersRight()
    {
        var table = new TextTable("NAME", "COUNT>");
        table.Add("a", "1");
        table.Add("longer-name", "123");
        using var writer = new StringWriter();

        table.WriteTo(writer);

        var lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["NAME         COUNT", "a                1", "longer-name    123"], lines);
    }

    [Fact]
    public void Apps_Write_OneRowPerSubscriptionWithCounts()
    {
        var apps = new AppsResponse(
        [
            new AppInfo(
                "vtex.live-users@0.1.0",
                "vtex.live-users",
                "http://127.0.0.1:5000",
                DateTimeOffset.UnixEpoch,
                [new SubscriptionInfo("s1", "liveUsersUpdate", "vtex.events-example", ["send-event"], 3, 1, 120, 2)],
                [new RouteInfo("status", "/_v/status", "http://127.0.0.1:8080/local/dev/_v/status")]),
        ]);
        using var writer = new StringWriter();

        AppsCommand.Write(writer, "local", "dev", apps);

        var text = writer.ToString();
        Assert.Contains("APP", text, StringComparison.Ordinal);
        Assert.Matches(@"vtex\.live-users@0\.1\.0\s+http://127\.0\.0\.1:5000\s+liveUsersUpdate\s+vtex\.events-example\s+send-event\s+3\s+1\s+120\s+2", text);
        Assert.Contains("route vtex.live-users/status: http://127.0.0.1:8080/local/dev/_v/status", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Apps_Write_NoApps_SaysHowToLinkOne()
    {
        using var writer = new StringWriter();

        AppsCommand.Write(writer, "local", "dev", new AppsResponse([]));

        Assert.Contains("No apps linked in local/dev", writer.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void DeadLetters_Write_ShowsReasonAndEveryAttempt()
    {
        using var body = JsonDocument.Parse("{}");
        var response = new DeadLettersResponse(
        [
            new DeadLetterInfo(
                "dl-1", "ev-1", "sub-1", "vtex.live-users", "liveUsersUpdate", "vtex.events-example", "send-event", "",
                DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, "retries exhausted", body.RootElement.Clone(),
                [
                    new AttemptInfo(1, DateTimeOffset.UnixEpoch, 12, 500, null),
                    new AttemptInfo(2, DateTimeOffset.UnixEpoch, 3000, null, "timed out"),
                ]),
        ]);
        using var writer = new StringWriter();

        DeadLettersCommand.Write(writer, "local", "dev", response);

        var text = writer.ToString();
        Assert.Contains("dl-1  vtex.live-users/liveUsersUpdate  send-event from vtex.events-example", text, StringComparison.Ordinal);
        Assert.Contains("subscription sub-1", text, StringComparison.Ordinal);
        Assert.Contains("retries exhausted", text, StringComparison.Ordinal);
        Assert.Matches(@"attempt 1 at .*: 500 \(12 ms\)", text);
        Assert.Matches(@"attempt 2 at .*: timed out \(3000 ms\)", text);
        Assert.Contains("1 dead letter in local/dev", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2025-01-31T12:00:00Z", "2025-01-31T12:00:00+00:00")]
    [InlineData("30m", "2025-06-01T11:30:00+00:00")]
    [InlineData("2h", "2025-06-01T10:00:00+00:00")]
    [InlineData("1d", "2025-05-31T12:00:00+00:00")]
    public void ParseSince_IsoTimeOrAge(string text, string expected)
    {
        var now = DateTimeOffset.Parse("2025-06-01T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), DeadLettersCommand.ParseSince(text, now));
    }

    [Theory]
    [InlineData("soon")]
    [InlineData("5x")]
    [InlineData("")]
    public void ParseSince_Nonsense_IsNull(string text)
    {
        Assert.Null(DeadLettersCommand.ParseSince(text, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void Demo_Format_OneLinePerActivityKind()
    {
        var at = DateTimeOffset.UnixEpoch;
        Assert.Equal("fired      send-event from vtex.events-example (event …abcdef12)", DemoCommand.Format(new ActivityInfo("published", "0000-abcdef12", "send-event", "vtex.events-example", null, null, null, null, null, at)));
        Assert.Equal("delivered  send-event to vtex.live-users/liveUsersUpdate, attempt 1 (204) (event …abcdef12)", DemoCommand.Format(new ActivityInfo("delivered", "0000-abcdef12", "send-event", "vtex.events-example", "vtex.live-users", "liveUsersUpdate", 1, 204, null, at)));
        Assert.Contains("retrying   send-event to vtex.live-users/liveUsersUpdate: attempt 2 failed (500 boom)", DemoCommand.Format(new ActivityInfo("retrying", "e", "send-event", "s.s", "vtex.live-users", "liveUsersUpdate", 2, 500, "boom", at)), StringComparison.Ordinal);
        Assert.StartsWith("dead       send-event", DemoCommand.Format(new ActivityInfo("dead", "e", "send-event", "s.s", "a", "h", 9, 404, null, at)), StringComparison.Ordinal);
        Assert.Null(DemoCommand.Format(new ActivityInfo("other", "e", "k", "s.s", null, null, null, null, null, at)));
    }

    [Fact]
    public void Tail_Format_ShowsSenderKeySubjectAndBody()
    {
        using var body = JsonDocument.Parse("""{"n":1}""");
        var line = TailCommand.Format(new TailEvent("ev-1", "vtex.events-example", "send-event", "order-9", body.RootElement.Clone(), DateTimeOffset.UnixEpoch));

        Assert.Matches(@"^\d\d:\d\d:\d\d\.\d\d\d  vtex\.events-example  send-event \[order-9\]  \{""n"":1\}  \(ev-1\)$", line);
    }

    [Fact]
    public void FindSamples_WalksUpFromTheCurrentFolder()
    {
        var samples = Path.Combine(_cli.Root, "samples");
        foreach (var name in new[] { "events-example", "live-users" })
        {
            Directory.CreateDirectory(Path.Combine(samples, name));
            File.WriteAllText(Path.Combine(samples, name, "manifest.json"), "{}");
        }

        var nested = Path.Combine(_cli.Root, "a", "b");
        Directory.CreateDirectory(nested);
        var environment = new CliEnvironment(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?>(), nested);

        Assert.Equal(samples, DemoCommand.FindSamples(environment, null));
        Assert.Equal(samples, DemoCommand.FindSamples(environment, "../../samples"));
        Assert.Throws<CliException>(() => DemoCommand.FindSamples(environment, "."));
    }

    [Fact]
    public void UpUrl_BracketsIpv6()
    {
        Assert.Equal("http://127.0.0.1:8080", UpCommand.UrlFor("127.0.0.1", 8080));
        Assert.Equal("http://[::1]:9000", UpCommand.UrlFor("::1", 9000));
    }
}
