namespace Herald.Cli.Tests;

/// <summary>Writes app folders (manifest.json, dotnet/service.json, dotnet/*.csproj; or a VTEX IO node app's node/) for tests.</summary>
internal static class AppFixtures
{
    public const string GoodManifest = """
        {"vendor": "acme", "name": "listener", "version": "0.1.0", "title": "Listener", "builders": {"dotnet": "1.x"}}
        """;

    public const string GoodService = """
        {"memory": 128, "timeout": 10, "events": {"onThing": {"sender": "acme.sender", "keys": ["thing-happened"]}}}
        """;

    public static string Write(string parent, string name, string manifest, string service, string? project = null, IReadOnlyDictionary<string, string>? files = null)
    {
        var root = Path.Combine(parent, name);
        Directory.CreateDirectory(Path.Combine(root, "dotnet"));
        File.WriteAllText(Path.Combine(root, "manifest.json"), manifest);
        File.WriteAllText(Path.Combine(root, "dotnet", "service.json"), service);
        File.WriteAllText(Path.Combine(root, "dotnet", "App.csproj"), project ?? "<Project Sdk=\"Microsoft.NET.Sdk.Web\" />");
        foreach (var (path, text) in files ?? new Dictionary<string, string>())
        {
            File.WriteAllText(Path.Combine(root, "dotnet", path), text);
        }

        return root;
    }

    /// <summary>A VTEX IO node app: manifest.json, node/service.json, and the node/ files given (by default a package.json without dependencies and a tsconfig.json).</summary>
    public static string WriteNode(string parent, string name, string service, IReadOnlyDictionary<string, string>? files = null)
    {
        var root = Path.Combine(parent, name);
        Directory.CreateDirectory(Path.Combine(root, "node"));
        File.WriteAllText(Path.Combine(root, "manifest.json"), GoodManifest.Replace("\"dotnet\"", "\"node\"", StringComparison.Ordinal));
        File.WriteAllText(Path.Combine(root, "node", "service.json"), service);
        var nodeFiles = files ?? new Dictionary<string, string>
        {
            ["package.json"] = """{"name": "listener", "version": "0.1.0", "private": true}""",
            ["tsconfig.json"] = """{"compilerOptions": {"target": "es2019", "module": "commonjs"}}""",
        };
        foreach (var (path, text) in nodeFiles)
        {
            File.WriteAllText(Path.Combine(root, "node", path), text);
        }

        return root;
    }
}
