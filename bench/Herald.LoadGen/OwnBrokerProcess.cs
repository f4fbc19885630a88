using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Herald.LoadGen;

/// <summary>
/// <c>herald up</c> as its own process (so its memory can be measured apart from the load generator), with its data
/// and CLI home in a temp folder. Stopped with SIGTERM, as a service manager does; killed only if it does not exit.
/// </summary>
internal sealed class OwnBrokerProcess : IAsyncDisposable
{
    private const int KeptLines = 200;
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private long _lineCount;

    private OwnBrokerProcess(Process process, string root, string dataDirectory)
    {
        _process = process;
        Root = root;
        DataDirectory = dataDirectory;
    }

    /// <summary>The temp folder holding the data folder and the CLI home; deleted on dispose.</summary>
    public string Root { get; }

    public string DataDirectory { get; }

    public int Id => _process.Id;

    public Uri Url { get; private set; } = null!;

    /// <summary>Every line the broker printed (the last <see cref="KeptLines"/> are kept).</summary>
    public long LineCount => Interlocked.Read(ref _lineCount);

    public IReadOnlyCollection<string> Lines => _lines;

    public static async Task<OwnBrokerProcess> StartAsync(string cliDll, CancellationToken ct)
    {
        if (!File.Exists(cliDll))
        {
            throw new FileNotFoundException($"The Herald CLI was not found at {cliDll}. Build it first (dotnet build src/Herald.Cli -c Release) or give --herald-dll.", cliDll);
        }

        var root = Directory.CreateTempSubdirectory("herald-soak-").FullName;
        var home = Path.Combine(root, "home");
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(home);
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { cliDll, "up", "--port", "0", "--host", "127.0.0.1", "--data", data })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["HERALD_HOME"] = home;
        info.Environment.Remove("HERALD_BROKER_URL");
        info.Environment.Remove("HERALD_ADMIN_TOKEN");
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var broker = new OwnBrokerProcess(process, root, data);
        process.OutputDataReceived += (_, e) => broker.Add(e.Data);
        process.ErrorDataReceived += (_, e) => broker.Add(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        const string Listening = "Herald broker listening on ";
        var until = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var line = broker._lines.FirstOrDefault(l => l.Contains(Listening, StringComparison.Ordinal));
            if (line is not null)
            {
                broker.Url = new Uri(line[(line.IndexOf(Listening, StringComparison.Ordinal) + Listening.Length)..].Trim());
                return broker;
            }

            if (process.HasExited || DateTime.UtcNow > until)
            {
                var output = string.Join(Environment.NewLine, broker._lines);
                await broker.DisposeAsync();
                throw new InvalidOperationException($"herald up did not print '{Listening}' within 60 s. Output:{Environment.NewLine}{output}");
            }

            await Task.Delay(25, ct);
        }
    }

    /// <summary>Sends SIGTERM (through <c>kill -TERM</c>, to this process's id only) and waits for the exit; returns the exit code, or null if it had to be killed.</summary>
    public async Task<int?> StopAsync(TimeSpan deadline)
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        using (var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false })!)
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(deadline);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return _process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        Interlocked.Increment(ref _lineCount);
        _lines.Enqueue(line);
        while (_lines.Count > KeptLines && _lines.TryDequeue(out _))
        {
        }
    }
}

/// <summary>A process's resident memory in MiB: all of it, its peak (VmHWM), and the anonymous (heaps, stacks) and
/// file-backed (mapped files, code) parts, from <c>/proc/{pid}/status</c> (Linux).</summary>
internal readonly record struct MemorySample(double Rss, double Peak, double Anon, double File);

/// <summary>Reads a process's <see cref="MemorySample"/>.</summary>
internal static class ProcessMemory
{
    /// <summary>The process's memory now, or null when unreadable (not Linux, or the process is gone).</summary>
    public static MemorySample? Read(int pid)
    {
        try
        {
            var fields = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0 && line[..colon] is "VmRSS" or "VmHWM" or "RssAnon" or "RssFile" or "RssShmem")
                {
                    fields[line[..colon]] = Kib(line);
                }
            }

            return fields.TryGetValue("VmRSS", out var rss)
                ? new MemorySample(rss, fields.GetValueOrDefault("VmHWM", rss), fields.GetValueOrDefault("RssAnon"), fields.GetValueOrDefault("RssFile") + fields.GetValueOrDefault("RssShmem"))
                : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static double Kib(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0;
}
