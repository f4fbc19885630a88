using System.Diagnostics;
using Herald.Storage.Nats.Tests.Fixtures;

namespace Herald.Storage.Nats.Tests;

/// <summary><c>herald demo --store nats://...</c>: the tutorial, live, on a 3-node cluster, as a real process.</summary>
[Collection(NatsClusterCollection.Name)]
public sealed class DemoOnClusterTests(NatsClusterFixture nats)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Demo_OnACluster_HandlesTheTutorialsEvents_AndExits0_RunAfterRun()
    {
        var root = RepositoryRoot();
        var home = Directory.CreateTempSubdirectory("herald-demo-home-");
        try
        {
            // A second run finds the first one's keys in $HERALD_HOME/demo: brokers on one store must share keys.
            for (var run = 1; run <= 2; run++)
            {
                var (exitCode, output, error) = await RunDemoAsync(root, home.FullName);

                Assert.True(exitCode == 0, $"herald demo (run {run}) exited {exitCode}: {output} {error}");
                Assert.Contains("Events on the NATS JetStream cluster at", output, StringComparison.Ordinal);
                Assert.Contains("3 events handled", output, StringComparison.Ordinal);
            }
        }
        finally
        {
            home.Delete(recursive: true);
        }
    }

    private async Task<(int ExitCode, string Output, string Error)> RunDemoAsync(string root, string home)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = root,
        };
        foreach (var argument in new[] { Path.Combine(root, "src", "Herald.Cli", "bin", "Release", "net10.0", "Herald.Cli.dll"), "demo", "--store", nats.ClientUrls, "--interval", "1", "--events", "3", "--samples", Path.Combine(root, "samples") })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["HOME"] = home;
        start.Environment["HERALD_HOME"] = Path.Combine(home, ".herald");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(Deadline);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"herald demo did not end within {Deadline.TotalMinutes} min: {await output}");
        }

        return (process.ExitCode, await output, await error);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (Herald.slnx) is not above " + AppContext.BaseDirectory);
    }
}
