using System.CommandLine;

namespace Herald.Cli.Tests;

public sealed class ParsingTests
{
    private static ParseResult Parse(string commandLine) =>
        Parse(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static ParseResult Parse(string[] args)
    {
        var environment = new CliEnvironment(TextWriter.Null, TextWriter.Null, new Dictionary<string, string?>());
        return HeraldCli.Parse(environment, args);
    }

    private static ParseResult ParseOk(string commandLine) =>
        ParseOk(commandLine.Split(' ', StringSplitOptions.RemoveEmptyEntries));

    private static ParseResult ParseOk(string[] args)
    {
        var parse = Parse(args);
        Assert.True(parse.Errors.Count == 0, string.Join("; ", parse.Errors.Select(e => e.Message)));
        return parse;
    }

    [Fact]
    public void Up_WithEveryOption_ReadsThem()
    {
        var parse = ParseOk("up --port 9090 --host 0.0.0.0 --data /tmp/d --verbose");
        Assert.Equal("up", parse.CommandResult.Command.Name);
        Assert.Equal(9090, parse.GetValue<int>("--port"));
        Assert.Equal("0.0.0.0", parse.GetValue<string>("--host"));
        Assert.Equal("/tmp/d", parse.GetValue<string>("--data"));
        Assert.True(parse.GetValue<bool>("--verbose"));
    }

    [Fact]
    public void Up_WithoutOptions_DefaultsToLoopback8080()
    {
        var parse = ParseOk("up");
        Assert.Equal(8080, parse.GetValue<int>("--port"));
        Assert.Equal("127.0.0.1", parse.GetValue<string>("--host"));
        Assert.Null(parse.GetValue<string>("--data"));
    }

    [Theory]
    [InlineData("up --port 70000")]
    [InlineData("up --port -1")]
    [InlineData("use")]
    [InlineData("send")]
    [InlineData("demo --interval 0")]
    [InlineData("demo --events 0")]
    [InlineData("deadletters list --limit 0")]
    [InlineData("frobnicate")]
    public void InvalidCommandLine_HasErrors(string commandLine)
    {
        Assert.NotEmpty(Parse(commandLine).Errors);
    }

    [Fact]
    public void Use_ReadsWorkspaceAndAccount()
    {
        var parse = ParseOk("use staging --account acme");
        Assert.Equal("use", parse.CommandResult.Command.Name);
        Assert.Equal("staging", parse.GetValue<string>("workspace"));
        Assert.Equal("acme", parse.GetValue<string>("--account"));
    }

    [Fact]
    public void Broker_IsAcceptedAfterAnySubcommand()
    {
        var parse = ParseOk("deadletters list --broker http://127.0.0.1:9000");
        Assert.Equal("list", parse.CommandResult.Command.Name);
        Assert.Equal("http://127.0.0.1:9000", parse.GetValue<string>("--broker"));
        Assert.Equal("http://127.0.0.1:9000", ParseOk("whoami --broker http://127.0.0.1:9000").GetValue<string>("--broker"));
    }

    [Fact]
    public void Link_ReadsPathAndNoWatch()
    {
        var parse = ParseOk("link --path apps/live-users --no-watch");
        Assert.Equal("link", parse.CommandResult.Command.Name);
        Assert.Equal("apps/live-users", parse.GetValue<string>("--path"));
        Assert.True(parse.GetValue<bool>("--no-watch"));
    }

    [Fact]
    public void Unlink_AppIsOptional()
    {
        Assert.Equal("vtex.live-users", ParseOk("unlink vtex.live-users").GetValue<string>("app"));
        Assert.Null(ParseOk("unlink").GetValue<string>("app"));
    }

    [Fact]
    public void Send_ReadsKeyDataSenderAndSubject()
    {
        var parse = ParseOk(["send", "send-event", "--data", "{\"a\":1}", "--sender", "vtex.events-example", "--subject", "order-1"]);
        Assert.Equal("send-event", parse.GetValue<string>("key"));
        Assert.Equal("{\"a\":1}", parse.GetValue<string>("--data"));
        Assert.Equal("vtex.events-example", parse.GetValue<string>("--sender"));
        Assert.Equal("order-1", parse.GetValue<string>("--subject"));
    }

    [Fact]
    public void Tail_ReadsSeveralKeysAfterOneOption()
    {
        var parse = ParseOk("tail --sender vtex.events-example --keys a b --keys c");
        Assert.Equal(["a", "b", "c"], parse.GetValue<string[]>("--keys")!);
        Assert.Equal("vtex.events-example", parse.GetValue<string>("--sender"));
    }

    [Fact]
    public void Send_DataFromFile_IsNotAResponseFile()
    {
        Assert.Equal("@body.json", ParseOk("send k --data @body.json").GetValue<string>("--data"));
    }

    [Fact]
    public void Apps_HasNoArguments()
    {
        Assert.Equal("apps", ParseOk("apps").CommandResult.Command.Name);
        Assert.NotEmpty(Parse("apps extra").Errors);
    }

    [Fact]
    public void DeadLetters_ListAndRedrive_ReadTheirOptions()
    {
        var list = ParseOk("deadletters list --subscription sub-1 --limit 5");
        Assert.Equal("sub-1", list.GetValue<string>("--subscription"));
        Assert.Equal(5, list.GetValue<int?>("--limit"));

        var redrive = ParseOk("deadletters redrive --id a --id b --subscription s --since 2h");
        Assert.Equal("redrive", redrive.CommandResult.Command.Name);
        Assert.Equal(["a", "b"], redrive.GetValue<string[]>("--id")!);
        Assert.Equal("2h", redrive.GetValue<string>("--since"));
    }

    [Fact]
    public void Demo_ReadsIntervalEventsAndSamples()
    {
        var parse = ParseOk("demo --interval 1 --events 3 --samples ./samples");
        Assert.Equal(1, parse.GetValue<int>("--interval"));
        Assert.Equal(3, parse.GetValue<int?>("--events"));
        Assert.Equal("./samples", parse.GetValue<string>("--samples"));
        Assert.Equal(3, ParseOk("demo").GetValue<int>("--interval"));
    }
}
