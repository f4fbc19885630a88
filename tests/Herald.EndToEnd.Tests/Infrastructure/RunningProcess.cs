using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// A process a test started: its output lines are kept, and it can be asked to stop (SIGTERM, handled as Ctrl+C),
/// killed (SIGKILL) or awaited. Disposing kills it if it still runs, so no test leaves a process behind.
/// </summary>
public sealed partial class RunningProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly SemaphoreSlim _lineArrived = new(0);

    private RunningProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public IReadOnlyCollection<string> Lines => _lines;

    public string Output => string.Join(Environment.NewLine, _lines);

    public static RunningProcess Start(string name, string fileName, IEnumerable<string> arguments, IDictionary<string, string?> environment, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Repo.Root,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var running = new RunningProcess(process, name);
        process.Exited += (_, _) => running._lineArrived.Release();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                running._lines.Enqueue(e.Data);
            }

            running._lineArrived.Release(); // a line, or the end of the stream
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                running._lines.Enqueue(e.Data);
            }

            running._lineArrived.Release(); // a line, or the end of the stream
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return running;
    }

    /// <summary>Waits for a line containing <paramref name="text"/>; returns it. Wakes on each line the process prints.</summary>
    public async Task<string> WaitForLineAsync(string text, TimeSpan? deadline = null)
    {
        using var timeout = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            if (_lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal)) is { } line)
            {
                return line;
            }

            if (_process.HasExited)
            {
                // Without a timeout, WaitForExit also waits until the output has been read to its end.
                await _process.WaitForExitAsync(CancellationToken.None);
                return _lines.FirstOrDefault(l => l.Contains(text, StringComparison.Ordinal))
                    ?? throw new InvalidOperationException($"{Name} exited ({_process.ExitCode}) before printing '{text}'. Output:{Environment.NewLine}{Output}");
            }

            try
            {
                await _lineArrived.WaitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"{Name} did not print '{text}' in time. Output:{Environment.NewLine}{Output}");
            }
        }
    }

    public int Count(string text) => _lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>
    /// Asks the process to stop with SIGTERM, which the CLI handles exactly as Ctrl+C. (SIGINT is not used: a test
    /// run started in the background of a non-interactive shell inherits SIGINT as ignored, as POSIX shells do.)
    /// </summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, 15);
        }
    }

    /// <summary>Kills the process at once (SIGKILL): no shutdown code runs.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: false);
        }
    }

    public async Task<int> WaitForExitAsync(TimeSpan? deadline = null)
    {
        using var cts = new CancellationTokenSource(deadline ?? TimeSpan.FromSeconds(60));
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{Name} did not exit in time. Output:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
