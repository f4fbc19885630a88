using System.Net;
using System.Net.Sockets;

namespace Herald.Cli.Tests;

public sealed class SendTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);

    public SendTests() => _listener.Start();

    private string ListenerUrl => $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public void Dispose()
    {
        _listener.Dispose();
        _cli.Dispose();
    }

    [Theory]
    [InlineData("{not json", "--data is not valid JSON")]
    [InlineData("42", "--data must be a JSON object or array")]
    [InlineData("\"text\"", "--data must be a JSON object or array")]
    public async Task Send_BadData_FailsBeforeAnyRequest(string data, string message)
    {
        var result = await _cli.RunAsync("send", "send-event", "--data", data, "--broker", ListenerUrl);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.False(_listener.Pending(), "send connected to the broker although its input was invalid");
    }

    [Theory]
    [InlineData("bad key", "'bad key' is not a valid event key")]
    [InlineData("_underscore-first", "'_underscore-first' is not a valid event key")]
    [InlineData("a/b", "'a/b' is not a valid event key")]
    public async Task Send_BadKey_FailsBeforeAnyRequest(string key, string message)
    {
        var result = await _cli.RunAsync("send", key, "--broker", ListenerUrl);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.False(_listener.Pending());
    }

    [Fact]
    public async Task Send_DataFromMissingFile_SaysWhichFile()
    {
        var result = await _cli.RunAsync("send", "k", "--data", "@nope.json", "--broker", ListenerUrl);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(Path.Combine(_cli.WorkingDirectory, "nope.json") + " does not exist", result.Error, StringComparison.Ordinal);
        Assert.False(_listener.Pending());
    }

    [Fact]
    public void Validate_DataFromFile_ReturnsItsJson()
    {
        File.WriteAllText(Path.Combine(_cli.WorkingDirectory, "body.json"), """[1, {"a": true}]""");

        var (key, sender, body) = Commands.SendCommand.Validate(_cli.Environment(TextWriter.Null, TextWriter.Null), "k", "@body.json", null);

        Assert.Equal("k", key);
        Assert.Equal("herald.cli", sender);
        Assert.Equal("""[1, {"a": true}]""", body);
    }

    [Theory]
    [InlineData("'No.dot' is not a valid sender", "send", "k", "--sender", "No.dot")]
    [InlineData("Say which dead letters to redrive", "deadletters", "redrive")]
    [InlineData("--since 'yesterday-ish' is not a time", "deadletters", "redrive", "--since", "yesterday-ish")]
    public async Task BadArguments_FailBeforeAnyRequest(string message, params string[] args)
    {
        var result = await _cli.RunAsync([.. args, "--broker", ListenerUrl]);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.False(_listener.Pending());
    }
}
