namespace Herald.EndToEnd.Tests;

/// <summary>Tokens and signing secrets never reach the broker's, the app's or the CLI's output.</summary>
public sealed class SecretsTests : IAsyncLifetime
{
    private BrokerProcess _broker = null!;

    public async Task InitializeAsync() => _broker = await BrokerProcess.StartAsync();

    public async Task DisposeAsync() => await _broker.DisposeAsync();

    [Fact]
    public async Task NoOutput_ContainsATokenOrASecret()
    {
        await using var app = await AppProcess.StartAsync(_broker, Repo.TestSubscriberFolder, "local", "dev");
        var sent = await _broker.SendAsync("local", "dev", "vtex.any", "test-event", """{"failAttempts":{"1":500}}""");
        await Eventually.ReturnsAsync(() => _broker.SubscriptionAsync("local", "dev", "local/dev/test.subscriber/anyKey"), s => s.Delivered == 1, "delivered");
        var (code, cliOutput) = await Cli.RunAsync(_broker, Repo.Root, "apps");

        Assert.Equal(0, code);
        Assert.Contains("test.subscriber", cliOutput, StringComparison.Ordinal);
        foreach (var secret in new[] { app.Link.Token, app.Link.SigningSecret, _broker.AdminToken })
        {
            Assert.DoesNotContain(secret, _broker.Process.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, app.Process.Output, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, cliOutput, StringComparison.Ordinal);
        }

        Assert.NotEmpty(sent.Id);
    }
}
