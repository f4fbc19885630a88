using System.Text;

namespace Herald.Cli.Tests;

/// <summary>A writer tests can read while commands write to it from other threads.</summary>
internal sealed class SharedWriter : TextWriter
{
    private readonly StringBuilder _text = new();
    private readonly Lock _gate = new();

    public override Encoding Encoding => Encoding.UTF8;

    public override void Write(char value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }

    public override void Write(string? value)
    {
        lock (_gate)
        {
            _text.Append(value);
        }
    }

    public override void WriteLine(string? value)
    {
        lock (_gate)
        {
            _text.Append(value).Append(NewLine);
        }
    }

    public override string ToString()
    {
        lock (_gate)
        {
            return _text.ToString();
        }
    }
}

/// <summary>Result of one CLI run.</summary>
internal sealed record CliResult(int ExitCode, string Out, string Error)
{
    public string All => Out + Error;
}

/// <summary>
/// Runs the CLI in-process with its own temporary HERALD_HOME and current folder, and none of the process's
/// HERALD_* variables.
/// </summary>
internal sealed class CliHarness : IDisposable
{
    public CliHarness()
    {
        Root = Path.Combine(Path.GetTempPath(), "herald-cli-tests-" + Guid.NewGuid().ToString("N")[..12]);
        Home = Path.Combine(Root, "home");
        WorkingDirectory = Path.Combine(Root, "work");
        Directory.CreateDirectory(Home);
        Directory.CreateDirectory(WorkingDirectory);
    }

    public string Root { get; }

    public string Home { get; }

    public string WorkingDirectory { get; }

    public Dictionary<string, string?> Variables { get; } = new();

    public CliEnvironment Environment(TextWriter output, TextWriter error)
    {
        var variables = new Dictionary<string, string?>
        {
            ["HERALD_HOME"] = Home,
            ["HERALD_BROKER_URL"] = null,
            ["HERALD_ADMIN_TOKEN"] = null,
        };
        foreach (var (name, value) in Variables)
        {
            variables[name] = value;
        }

        return new CliEnvironment(output, error, variables, WorkingDirectory);
    }

    public async Task<CliResult> RunAsync(params string[] args) => await RunAsync(args, CancellationToken.None);

    public async Task<CliResult> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        var output = new SharedWriter();
        var error = new SharedWriter();
        var exitCode = await HeraldCli.InvokeAsync(args, Environment(output, error), handleTermination: false, cancellationToken);
        return new CliResult(exitCode, output.ToString(), error.ToString());
    }

    /// <summary>Starts a long-running command; returns its writers and the task.</summary>
    public (SharedWriter Out, SharedWriter Error, Task<int> Run) Start(string[] args, CancellationToken cancellationToken)
    {
        var output = new SharedWriter();
        var error = new SharedWriter();
        var run = Task.Run(() => HeraldCli.InvokeAsync(args, Environment(output, error), handleTermination: false, cancellationToken), CancellationToken.None);
        return (output, error, run);
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Polls a condition until it holds or a deadline passes.</summary>
internal static class Eventually
{
    public static async Task<T> GetAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        var deadline = DateTime.UtcNow + timeout;
        using var poll = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Timed out after {timeout.TotalSeconds} s waiting for {what}.");
            }

            await poll.WaitForNextTickAsync();
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> probe, TimeSpan timeout, string what)
    {
        await GetAsync<object>(async () => await probe() ? new object() : null, timeout, what);
    }
}
