namespace Herald.Cli.Apps;

/// <summary>Finds the <c>dotnet</c> executable to build and run apps with.</summary>
internal static class DotnetHost
{
    /// <summary>The path of <c>dotnet</c>: this process's host when it is one, else <c>DOTNET_ROOT</c>, else the PATH.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        var name = OperatingSystem.IsWindows() ? "dotnet.exe" : "dotnet";
        if (Environment.ProcessPath is { } self && string.Equals(System.IO.Path.GetFileName(self), name, StringComparison.OrdinalIgnoreCase))
        {
            return self;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(System.IO.Path.Combine(root, name)))
        {
            return System.IO.Path.Combine(root, name);
        }

        return name;
    }
}
