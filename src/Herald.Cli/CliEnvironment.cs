namespace Herald.Cli;

/// <summary>
/// What a command sees of the world: where it writes, its environment variables, its current folder and
/// Herald's home folder. Tests give their own writers, variables (e.g. a temporary <c>HERALD_HOME</c>) and folder.
/// </summary>
internal sealed class CliEnvironment
{
    private readonly IReadOnlyDictionary<string, string?> _overrides;

    /// <param name="output">Standard output.</param>
    /// <param name="error">Standard error.</param>
    /// <param name="variables">
    /// Environment variables that replace the process's own; a <c>null</c> value hides the process's variable.
    /// </param>
    /// <param name="currentDirectory">The current folder; the process's when <c>null</c>.</param>
    public CliEnvironment(TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? variables = null, string? currentDirectory = null)
    {
        Out = TextWriter.Synchronized(output);
        Error = TextWriter.Synchronized(error);
        _overrides = variables ?? new Dictionary<string, string?>();
        CurrentDirectory = currentDirectory ?? Directory.GetCurrentDirectory();
    }

    /// <summary>The environment of this process: its console, variables and folder.</summary>
    public static CliEnvironment FromProcess() => new(Console.Out, Console.Error);

    /// <summary>Standard output (thread-safe).</summary>
    public TextWriter Out { get; }

    /// <summary>Standard error (thread-safe).</summary>
    public TextWriter Error { get; }

    /// <summary>The current folder.</summary>
    public string CurrentDirectory { get; }

    /// <summary>Herald's home folder: <c>HERALD_HOME</c>, else <c>~/.herald</c>.</summary>
    public string HomeDirectory =>
        Variable(EnvironmentNames.Home) is { Length: > 0 } home
            ? Path.GetFullPath(home, CurrentDirectory)
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".herald");

    /// <summary>The value of an environment variable, or <c>null</c> when it is unset or empty.</summary>
    public string? Variable(string name)
    {
        var value = _overrides.TryGetValue(name, out var overridden) ? overridden : Environment.GetEnvironmentVariable(name);
        return string.IsNullOrEmpty(value) ? null : value;
    }

    /// <summary>
    /// The set variables whose names start with <paramref name="prefix"/> (ignoring case), the overrides winning over
    /// the process's own.
    /// </summary>
    public IReadOnlyDictionary<string, string> VariablesStartingWith(string prefix)
    {
        var found = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            if (entry.Key is string name && name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) && entry.Value is string { Length: > 0 } value)
            {
                found[name] = value;
            }
        }

        foreach (var (name, value) in _overrides)
        {
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                if (string.IsNullOrEmpty(value))
                {
                    found.Remove(name);
                }
                else
                {
                    found[name] = value;
                }
            }
        }

        return found;
    }

    /// <summary>A path the user typed, made absolute against <see cref="CurrentDirectory"/>.</summary>
    public string FullPath(string path) => Path.GetFullPath(path, CurrentDirectory);

    /// <summary>The full path of the program <paramref name="name"/> found on the <c>PATH</c>, or <c>null</c>.</summary>
    public string? FindProgram(string name)
    {
        string[] names = OperatingSystem.IsWindows() ? [name + ".exe", name + ".cmd"] : [name];
        var folders = (Variable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        return folders.SelectMany(folder => names.Select(file => Path.Combine(folder, file))).FirstOrDefault(File.Exists);
    }
}

/// <summary>Environment variables the CLI reads or sets.</summary>
internal static class EnvironmentNames
{
    public const string Home = "HERALD_HOME";
    public const string BrokerUrl = "HERALD_BROKER_URL";
    public const string AdminToken = "HERALD_ADMIN_TOKEN";
    public const string AppToken = "HERALD_APP_TOKEN";
    public const string SigningSecrets = "HERALD_SIGNING_SECRETS";
    public const string Account = "HERALD_ACCOUNT";
    public const string Workspace = "HERALD_WORKSPACE";
    public const string AppRoot = "HERALD_APP_ROOT";
}
