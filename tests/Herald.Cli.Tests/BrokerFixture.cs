using System.Text.Json;

namespace Herald.Cli.Tests;

/// <summary>Runs <c>herald up --port 0</c> in this process for a test class, with its own HERALD_HOME and data folder.</summary>
public sealed class BrokerFixture : IAsyncLifetime
{
    private readonly CancellationTokenSource _stop = new();
    private readonly string[] _arguments;
    private Task<int>? _up;

    public BrokerFixture()
        : this([])
    {
    }

    /// <summary>A broker started with <paramref name="arguments"/> after <c>up --port 0</c> (by default, <c>--data</c> <see cref="DataDirectory"/>).</summary>
    internal BrokerFixture(string[] arguments) => _arguments = arguments;

    internal CliHarness Cli { get; } = new();

    internal SharedWriter? UpOutput { get; private set; }

    internal SharedWriter? UpError { get; private set; }

    public string Url { get; private set; } = "";

    public string DataDirectory => Path.Combine(Cli.Root, "data");

    public string AdminToken => File.ReadAllText(Path.Combine(DataDirectory, "admin.token")).Trim();

    public async Task InitializeAsync()
    {
        var (output, error, run) = Cli.Start(["up", "--port", "0", .. _arguments.Length > 0 ? _arguments : ["--data", DataDirectory]], _stop.Token);
        (UpOutput, UpError, _up) = (output, error, run);
        Url = await Eventually.GetAsync(
            async () =>
            {
                if (run.IsCompleted)
                {
                    throw new InvalidOperationException($"herald up ended with {await run}: {output}{error}");
                }

                var config = Path.Combine(Cli.Home, "config.json");
                if (!File.Exists(config))
                {
                    return null;
                }

                using var document = JsonDocument.Parse(await File.ReadAllTextAsync(config));
                return document.RootElement.TryGetProperty("broker", out var broker) ? broker.GetString() : null;
            },
            TimeSpan.FromSeconds(60),
            "herald up to record its URL");
        using var http = new HttpClient();
        await Eventually.TrueAsync(
            async () =>
            {
                try
                {
                    return (await http.GetAsync(new Uri(new Uri(Url), "/readyz"))).IsSuccessStatusCode;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(30),
            "the broker to be ready");
    }

    /// <summary>Stops <c>up</c> as Ctrl+C does and returns its exit code.</summary>
    internal async Task<int> StopAsync()
    {
        await _stop.CancelAsync();
        return await _up!;
    }

    public async Task DisposeAsync()
    {
        if (_up is not null && !_up.IsCompleted)
        {
            await StopAsync();
        }

        _stop.Dispose();
        Cli.Dispose();
    }
}
