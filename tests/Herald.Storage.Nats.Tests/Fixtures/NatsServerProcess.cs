using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>The client and HTTP monitoring ports of one server, both on 127.0.0.1.</summary>
public sealed record NatsServerPorts(int Client, int Http)
{
    /// <summary>Two free loopback ports.</summary>
    public static NatsServerPorts Pick()
    {
        var ports = LoopbackPorts.Pick(2);
        return new NatsServerPorts(ports[0], ports[1]);
    }
}

/// <summary>
/// A node's <c>cluster</c> block: the cluster's name, the port this node listens on for routes, and the route port of
/// every node, its own included (2.9.10 refuses to start clustered JetStream without configured routes).
/// </summary>
public sealed record NatsClusterOptions(string Name, int ListenPort, IReadOnlyList<int> RoutePorts);

/// <summary>
/// One real <c>nats-server</c> process with JetStream, on 127.0.0.1, that this object started and owns: its config,
/// store and log live in a temp folder of its own, and it is only ever signalled through its own process handle.
/// The ports and <c>store_dir</c> stay the same across restarts. Disposing kills it if it runs and deletes the folder.
/// </summary>
public sealed partial class NatsServerProcess : IAsyncDisposable
{
    /// <summary>How long <see cref="StartAsync"/> waits for <c>/healthz?js-enabled-only=true</c> to answer 200.</summary>
    public static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(20);

    /// <summary>How long <see cref="StopAsync"/> waits after SIGTERM before it kills, and a kill waits for the exit.</summary>
    public static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(10);

    private const int LogTailCapacity = 200;
    private const int SigTerm = 15;
    private const int SigStop = 19;
    private const int SigCont = 18;
    private static readonly TimeSpan PollPeriod = TimeSpan.FromMilliseconds(50);
    private static readonly Lazy<string?> s_executable = new(FindExecutable);
    private static readonly Lazy<Version> s_version = new(ReadVersion);

    // Every server still running, so none outlives the test host when it exits without disposing its fixtures.
    private static readonly ConcurrentDictionary<NatsServerProcess, byte> s_live = new();

    private readonly DirectoryInfo _folder;
    private readonly Lock _logLock = new();
    private readonly Queue<string> _logTail = new();
    private readonly StreamWriter _log;
    private bool _logClosed;
    private Process? _process;
    private int _starts;
    private bool _disposed;

    static NatsServerProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            foreach (var server in s_live.Keys)
            {
                server.KillNow();
            }
        };
    }

    /// <param name="serverName">The <c>server_name</c>; cluster nodes need distinct ones.</param>
    /// <param name="ports">The client and monitoring ports; two free loopback ports when null.</param>
    /// <param name="cluster">The cluster block of a cluster node; null for a single server.</param>
    public NatsServerProcess(string serverName = "n1", NatsServerPorts? ports = null, NatsClusterOptions? cluster = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(serverName);
        ServerName = serverName;
        Ports = ports ?? NatsServerPorts.Pick();
        Cluster = cluster;
        _folder = Directory.CreateTempSubdirectory($"herald-nats-{serverName}-");
        StoreDirectory = Path.Combine(_folder.FullName, "store");
        ConfigPath = Path.Combine(_folder.FullName, "nats-server.conf");
        LogPath = Path.Combine(_folder.FullName, "nats-server.log");
        File.WriteAllText(ConfigPath, BuildConfig());
        _log = new StreamWriter(LogPath, append: true, new UTF8Encoding(false)) { AutoFlush = true };
    }

    public string ServerName { get; }

    public NatsServerPorts Ports { get; }

    public NatsClusterOptions? Cluster { get; }

    /// <summary>The URL clients connect to: <c>nats://127.0.0.1:&lt;port&gt;</c>.</summary>
    public string ClientUrl => string.Create(CultureInfo.InvariantCulture, $"nats://127.0.0.1:{Ports.Client}");

    /// <summary>The HTTP monitoring endpoint: <c>http://127.0.0.1:&lt;port&gt;/</c>.</summary>
    public Uri MonitorUrl => new(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{Ports.Http}/"));

    /// <summary>The per-instance temp folder holding the config, the log and the store.</summary>
    public string Folder => _folder.FullName;

    public string StoreDirectory { get; }

    public string ConfigPath { get; }

    /// <summary>The server's stdout and stderr, across every start of this instance.</summary>
    public string LogPath { get; }

    public bool IsRunning => _process is { HasExited: false };

    /// <summary>The running process's id, or null when it does not run.</summary>
    public int? ProcessId => _process is { HasExited: false } process ? process.Id : null;

    /// <summary>The <c>nats-server</c> that is started: the first on PATH, else Debian's <c>/usr/sbin</c> one.</summary>
    /// <exception cref="InvalidOperationException">It is not installed.</exception>
    public static string ExecutablePath => s_executable.Value ?? throw new InvalidOperationException(
        "nats-server was not found on PATH (nor in /usr/sbin, where Debian's package puts it). "
        + "Install it with `apt-get install nats-server` (scripts/test.sh does so when it is missing).");

    /// <summary>The version of <see cref="ExecutablePath"/>, parsed from <c>nats-server --version</c> (read once).</summary>
    public static Version Version => s_version.Value;

    /// <summary>
    /// Starts the server and waits, up to <see cref="StartDeadline"/>, until <c>/healthz?js-enabled-only=true</c> answers
    /// 200. If it exits or the deadline passes first, it is killed and the exception carries the last log lines.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (IsRunning)
        {
            throw new InvalidOperationException($"nats-server {ServerName} already runs (pid {_process!.Id}).");
        }

        var info = new ProcessStartInfo(ExecutablePath)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _folder.FullName,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(ConfigPath);

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += OnOutput;
        process.ErrorDataReceived += OnOutput;
        _starts++;
        AppendLog(string.Create(CultureInfo.InvariantCulture, $"--- fixture: start {_starts} of {ServerName} ---"));
        process.Start();
        _process?.Dispose();
        _process = process;
        s_live.TryAdd(this, 0);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        try
        {
            await WaitUntilHealthyAsync(process, cancellationToken);
        }
        catch
        {
            await KillAsync(CancellationToken.None);
            throw;
        }
    }

    /// <summary>Kills the server at once (SIGKILL, through the handle of the process it started) and waits for the exit.</summary>
    public async Task KillAsync(CancellationToken cancellationToken = default)
    {
        if (_process is not { } process)
        {
            return;
        }

        KillNow();
        await WaitForExitAsync(process, "SIGKILL", cancellationToken);
    }

    /// <summary>
    /// Stops the server gracefully: SIGTERM to the process it started, then a kill if it has not exited within
    /// <paramref name="grace"/> (<see cref="StopDeadline"/> when null).
    /// </summary>
    public async Task StopAsync(TimeSpan? grace = null, CancellationToken cancellationToken = default)
    {
        if (_process is not { } process)
        {
            return;
        }

        if (!process.HasExited && Signal(process.Id, SigTerm) != 0 && !process.HasExited)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"SIGTERM to nats-server {ServerName} (pid {process.Id}) failed.");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(grace ?? StopDeadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            AppendLog($"--- fixture: {ServerName} did not exit after SIGTERM within {(grace ?? StopDeadline).TotalSeconds} s; killing it ---");
            await KillAsync(cancellationToken);
        }

        s_live.TryRemove(this, out _);
    }

    /// <summary>
    /// Freezes the server (SIGSTOP to the process it started): its connections stay open and nothing it is sent is
    /// answered until <see cref="Resume"/>, as a server starved of CPU.
    /// </summary>
    public void Pause() => SendSignal(SigStop, "SIGSTOP");

    /// <summary>Lets a server <see cref="Pause"/> froze run again (SIGCONT).</summary>
    public void Resume() => SendSignal(SigCont, "SIGCONT");

    private void SendSignal(int signal, string name)
    {
        var process = _process ?? throw new InvalidOperationException($"nats-server {ServerName} does not run.");
        AppendLog($"--- fixture: {name} to {ServerName} ---");
        if (Signal(process.Id, signal) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError(), $"{name} to nats-server {ServerName} (pid {process.Id}) failed.");
        }
    }

    /// <summary>Stops the server if it runs (as <see cref="StopAsync"/>), then starts it again on the same ports and store.</summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        if (IsRunning)
        {
            await StopAsync(cancellationToken: cancellationToken);
        }

        await StartAsync(cancellationToken);
    }

    /// <summary>The last <paramref name="count"/> lines the server printed (the log file has them all).</summary>
    public IReadOnlyList<string> LogTail(int count = 40)
    {
        lock (_logLock)
        {
            return _logTail.TakeLast(count).ToArray();
        }
    }

    public override string ToString() => $"{ServerName} ({ClientUrl})";

    /// <summary>Kills the server if it runs, waits for the exit and deletes its folder.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await KillAsync(CancellationToken.None);
        }
        finally
        {
            _process?.Dispose();
            lock (_logLock)
            {
                _logClosed = true;
                _log.Dispose();
            }

            _folder.Delete(recursive: true);
        }
    }

    private string BuildConfig()
    {
        var config = new StringBuilder();
        config.Append(CultureInfo.InvariantCulture, $$"""
            server_name: {{ServerName}}
            listen: 127.0.0.1:{{Ports.Client}}
            http: 127.0.0.1:{{Ports.Http}}
            max_payload: 8MB
            jetstream {
              store_dir: {{Quote(StoreDirectory)}}
              max_memory_store: 256MB
              max_file_store: 1GB
            }

            """);
        if (Cluster is { } cluster)
        {
            config.Append(CultureInfo.InvariantCulture, $$"""
                cluster {
                  name: {{cluster.Name}}
                  listen: 127.0.0.1:{{cluster.ListenPort}}
                  routes: [

                """);
            foreach (var port in cluster.RoutePorts)
            {
                config.Append(CultureInfo.InvariantCulture, $"    nats-route://127.0.0.1:{port}\n");
            }

            config.Append("  ]\n}\n");
        }

        return config.ToString();
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private async Task WaitUntilHealthyAsync(Process process, CancellationToken cancellationToken)
    {
        var healthz = new Uri(MonitorUrl, "healthz?js-enabled-only=true");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StartDeadline);
        using var timer = new PeriodicTimer(PollPeriod);
        var last = "no answer yet";
        try
        {
            while (true)
            {
                if (process.HasExited)
                {
                    await process.WaitForExitAsync(CancellationToken.None); // also reads the output to its end
                    throw new InvalidOperationException(
                        $"nats-server {ServerName} exited with code {process.ExitCode} before it was healthy.{FormatLogTail()}");
                }

                try
                {
                    using var response = await MonitoringHttp.Client.GetAsync(healthz, deadline.Token);
                    if (response.IsSuccessStatusCode)
                    {
                        return;
                    }

                    last = $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(deadline.Token)}";
                }
                catch (HttpRequestException e)
                {
                    last = e.Message;
                }
                catch (TaskCanceledException) when (!deadline.IsCancellationRequested)
                {
                    last = "the request timed out";
                }

                await timer.WaitForNextTickAsync(deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"nats-server {ServerName} did not answer 200 on {healthz} within {StartDeadline.TotalSeconds} s (last: {last}).{FormatLogTail()}");
        }
    }

    private async Task WaitForExitAsync(Process process, string after, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(StopDeadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"nats-server {ServerName} (pid {process.Id}) did not exit within {StopDeadline.TotalSeconds} s of {after}.");
        }

        s_live.TryRemove(this, out _);
    }

    private void KillNow()
    {
        if (_process is not { HasExited: false } process)
        {
            return;
        }

        try
        {
            process.Kill(entireProcessTree: false); // SIGKILL on Unix
        }
        catch (InvalidOperationException) when (process.HasExited)
        {
            // It exited between the check and the kill.
        }
    }

    private void OnOutput(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is { } line)
        {
            AppendLog(line);
        }
    }

    private void AppendLog(string line)
    {
        lock (_logLock)
        {
            if (_logClosed)
            {
                return;
            }

            _log.WriteLine(line);
            _logTail.Enqueue(line);
            if (_logTail.Count > LogTailCapacity)
            {
                _logTail.Dequeue();
            }
        }
    }

    private string FormatLogTail() =>
        $" Last lines of {LogPath}:{Environment.NewLine}{string.Join(Environment.NewLine, LogTail())}";

    private static string? FindExecutable()
    {
        var name = OperatingSystem.IsWindows() ? "nats-server.exe" : "nats-server";
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Append("/usr/sbin");
        return folders.Select(folder => Path.Combine(folder, name)).FirstOrDefault(File.Exists);
    }

    private static Version ReadVersion()
    {
        var info = new ProcessStartInfo(ExecutablePath, "--version")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)
            ?? throw new InvalidOperationException($"`{ExecutablePath} --version` did not start.");
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd() + errors.GetAwaiter().GetResult();
        process.WaitForExit();
        var match = VersionPattern().Match(output);
        if (!match.Success)
        {
            throw new InvalidOperationException($"`{ExecutablePath} --version` printed no version: {output}");
        }

        return new Version(
            int.Parse(match.Groups[1].ValueSpan, CultureInfo.InvariantCulture),
            int.Parse(match.Groups[2].ValueSpan, CultureInfo.InvariantCulture),
            int.Parse(match.Groups[3].ValueSpan, CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"v(\d+)\.(\d+)\.(\d+)")]
    private static partial Regex VersionPattern();

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static partial int Signal(int pid, int signal);
}
