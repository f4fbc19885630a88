using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Herald.Cli.Apps;

/// <summary>
/// A VTEX IO node app (<c>node/service.json</c>, <c>node/package.json</c>, <c>node/index.ts</c> declaring a
/// <c>@vtex/api</c> <c>Service</c>), run as it is: its npm dependencies are installed in <c>node/</c>, it is compiled
/// with its own TypeScript into <c>.herald/node/</c>, laid out there as <c>@vtex/api</c>'s loader expects, and served by
/// its own <c>@vtex/api</c> worker on a loopback port, its clients pointed at the broker (docs/vtex-apps.md). Nothing in
/// the app's own files changes.
/// </summary>
internal sealed class NodeRuntime : AppRuntime
{
    /// <summary>The region the app is told it runs in (<c>VTEX_REGION</c>): VTEX IO's main one.</summary>
    private const string Region = "aws-us-east-1";

    /// <summary>The variable that tells the starter which loopback port to listen on.</summary>
    private const string PortVariable = "HERALD_NODE_PORT";

    private const string StarterFile = "herald-start.js";
    private const string StarterResource = "Herald.Cli.herald-start.js";

    private readonly string _root;

    private NodeRuntime(string root) => _root = root;

    /// <inheritdoc/>
    public override string BuildSource => NodeDirectory;

    /// <summary>@vtex/api's own health check, answered once its worker serves.</summary>
    public override string ReadyPath => "/healthcheck";

    /// <summary>The app's <c>node/</c>.</summary>
    private string NodeDirectory => Path.Combine(_root, AppFolder.NodeFolder);

    /// <summary>Where <c>herald link</c> keeps the node app's builds: <c>.herald/node/</c>.</summary>
    private string WorkDirectory => Path.Combine(_root, AppFolder.HeraldFolder, AppFolder.NodeFolder);

    /// <summary>The folder the app runs in (<c>@vtex/api</c>'s working folder): <c>.herald/node/run/</c>.</summary>
    private string RunDirectory => Path.Combine(WorkDirectory, "run");

    private string BuildDirectory => Path.Combine(WorkDirectory, "build");

    private string NodeModules => Path.Combine(NodeDirectory, "node_modules");

    private string InstalledStamp => Path.Combine(WorkDirectory, "dependencies.sha256");

    /// <summary>The runtime of the VTEX IO node app in <paramref name="root"/>, which must have the files it is built from.</summary>
    public static NodeRuntime Find(string root)
    {
        var node = Path.Combine(root, AppFolder.NodeFolder);
        if (!File.Exists(Path.Combine(node, "package.json")))
        {
            throw new CliException($"No node/package.json in {root}: a VTEX IO node app declares its dependencies there, @vtex/api and typescript among them.");
        }

        if (!File.Exists(Path.Combine(node, "tsconfig.json")))
        {
            throw new CliException(
                $"No node/tsconfig.json in {root}: Herald compiles a node app with its own TypeScript and tsconfig.json. Add one, e.g. "
                + """{"compilerOptions": {"target": "es2019", "module": "commonjs", "esModuleInterop": true, "skipLibCheck": true}}""");
        }

        return new NodeRuntime(root);
    }

    /// <summary>Installs the app's npm dependencies when they changed, then compiles <c>node/</c> into a fresh build folder.</summary>
    public override async Task<string> BuildAsync(AppFolder app, CliEnvironment environment, CancellationToken cancellationToken)
    {
        var node = FindNode(environment);
        Directory.CreateDirectory(WorkDirectory);
        EnsureIgnored();
        await InstallAsync(environment, cancellationToken).ConfigureAwait(false);
        var tsc = Path.Combine(NodeModules, "typescript", "bin", "tsc");
        if (!File.Exists(tsc))
        {
            throw new CliException($"{NodeModules} has no TypeScript: Herald compiles the app with its own. Add it to node/package.json (cd node && npm install --save-dev typescript) and link again.");
        }

        if (!File.Exists(Path.Combine(NodeModules, "@vtex", "api", "lib", "service", "worker", "index.js")))
        {
            throw new CliException($"{NodeModules} has no @vtex/api 6.x (lib/service/worker): the app runs on its own @vtex/api. Add it to node/package.json's dependencies (cd node && npm install @vtex/api@6) and link again.");
        }

        var build = BuildDirectory;
        DeleteDirectory(build);
        var compiled = Path.Combine(build, "service", "src", "node");
        CopyAssets(NodeDirectory, compiled);
        File.Copy(Path.Combine(NodeDirectory, "service.json"), Path.Combine(build, "service", "service.json"));
        string[] arguments =
        [
            tsc, "--project", Path.Combine(NodeDirectory, "tsconfig.json"), "--outDir", compiled, "--rootDir", NodeDirectory,
            "--noEmit", "false", "--pretty", "false",
        ];
        var (exitCode, output, error) = await ChildProcess.RunAsync(node, arguments, _root, new Dictionary<string, string?>(), cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw AppBuildException.FromOutput($"TypeScript (tsc --project {AppFolder.NodeFolder}/tsconfig.json in {_root})", output + error, "error TS");
        }

        using (var starter = typeof(NodeRuntime).Assembly.GetManifestResourceStream(StarterResource)!)
        using (var file = File.Create(Path.Combine(build, StarterFile)))
        {
            await starter.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
        }

        return build;
    }

    /// <summary>
    /// Makes <paramref name="build"/> the run folder (with <c>node_modules</c> linked to the app's) and starts the
    /// starter there, with the variables VTEX IO gives an app and its HTTP clients pointed at the broker.
    /// </summary>
    public override AppLaunch Launch(AppFolder app, string build, AppLinkContext context, CliEnvironment environment)
    {
        var run = RunDirectory;
        DeleteDirectory(run);
        Directory.Move(build, run);
        Directory.CreateSymbolicLink(Path.Combine(run, "node_modules"), NodeModules);

        var manifest = app.Manifest;
        var link = context.Link;
        // @vtex/api's clients call the platform over plain http when VTEX_IO is set (https://infra.io.vtex.com/courier/v0/…
        // becomes http://…), and axios sends plain-http requests through HTTP_PROXY: the broker answers them.
        var proxy = context.BrokerUrl.GetLeftPart(UriPartial.Authority);
        var variables = new Dictionary<string, string?>
        {
            ["VTEX_APP_ID"] = manifest.AppId,
            ["VTEX_APP_VENDOR"] = manifest.Vendor,
            ["VTEX_APP_NAME"] = manifest.Name,
            ["VTEX_APP_VERSION"] = manifest.Version,
            ["VTEX_ACCOUNT"] = link.Account,
            ["VTEX_WORKSPACE"] = link.Workspace,
            ["VTEX_REGION"] = Region,
            ["VTEX_PRODUCTION"] = Names.IsProduction(link.Workspace) ? "true" : "false",
            ["VTEX_IO"] = "true",
            ["VTEX_APP_LINK"] = "true",
            ["HTTP_PROXY"] = proxy,
            ["http_proxy"] = proxy,
            // These would win over http_proxy in axios' lookup.
            ["npm_config_http_proxy"] = null,
            ["npm_config_proxy"] = null,
            [PortVariable] = context.Endpoint.Port.ToString(CultureInfo.InvariantCulture),
        };
        return new AppLaunch(FindNode(environment), [Path.Combine(run, StarterFile)], run, variables);
    }

    /// <summary>
    /// Leaves out <c>@vtex/api</c>'s billing lines (one per request) and shows its logger's JSON lines
    /// (<c>ctx.vtex.logger</c>) as <c>level: message</c>.
    /// </summary>
    public override string? FormatLine(string line)
    {
        if (!line.StartsWith("{\"__VTEX_IO_", StringComparison.Ordinal))
        {
            return line;
        }

        if (line.StartsWith("{\"__VTEX_IO_BILLING\"", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(line);
            var log = document.RootElement;
            if (log.TryGetProperty("level", out var level) && log.TryGetProperty("data", out var data))
            {
                return $"{level}: {(data.ValueKind == JsonValueKind.String ? data.GetString() : data.GetRawText())}";
            }
        }
        catch (JsonException)
        {
            // Not one of @vtex/api's lines after all.
        }

        return line;
    }

    /// <summary>
    /// Installs node/'s dependencies as its lockfile says (<c>npm ci</c>; <c>yarn install --frozen-lockfile</c> for a
    /// <c>yarn.lock</c>; <c>npm install --no-package-lock</c> without one), unless the same files were installed already.
    /// </summary>
    private async Task InstallAsync(CliEnvironment environment, CancellationToken cancellationToken)
    {
        var (program, arguments, lockFile) = InstallCommand(environment);
        var command = Path.GetFileNameWithoutExtension(program) + " " + string.Join(' ', arguments);
        var stamp = Hash(command, Path.Combine(NodeDirectory, "package.json"), lockFile);
        if (Directory.Exists(NodeModules) && File.Exists(InstalledStamp) && File.ReadAllText(InstalledStamp) == stamp)
        {
            return;
        }

        environment.Out.WriteLine($"Installing the dependencies of {NodeDirectory} ({command})...");
        var variables = new Dictionary<string, string?> { ["npm_config_update_notifier"] = "false" };
        var (exitCode, output, error) = await ChildProcess.RunAsync(program, arguments, NodeDirectory, variables, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            var lines = (error + output).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(20);
            throw new CliException(
                $"{command} in {NodeDirectory} failed (exit code {exitCode}):" + string.Concat(lines.Select(l => Environment.NewLine + "  " + l))
                + Environment.NewLine + "Fix node/package.json or its lockfile and link again.");
        }

        await File.WriteAllTextAsync(InstalledStamp, stamp, cancellationToken).ConfigureAwait(false);
    }

    private (string Program, string[] Arguments, string? LockFile) InstallCommand(CliEnvironment environment)
    {
        var lockFile = new[] { "package-lock.json", "npm-shrinkwrap.json" }.Select(f => Path.Combine(NodeDirectory, f)).FirstOrDefault(File.Exists);
        if (lockFile is not null)
        {
            return (FindNpm(environment), ["ci", "--no-audit", "--no-fund"], lockFile);
        }

        var yarnLock = Path.Combine(NodeDirectory, "yarn.lock");
        if (File.Exists(yarnLock))
        {
            var yarn = environment.FindProgram("yarn")
                ?? throw new CliException(
                    $"{NodeDirectory} has a yarn.lock and no package-lock.json, and yarn is not on the PATH. Install yarn (npm install --global yarn) "
                    + "and link again, or make a package-lock.json from it (cd node && npm install --package-lock-only) and link again.");
            return (yarn, ["install", "--frozen-lockfile", "--non-interactive"], yarnLock);
        }

        return (FindNpm(environment), ["install", "--no-package-lock", "--no-audit", "--no-fund"], null);
    }

    private static string Hash(string command, string packageFile, string? lockFile)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(command + "\n"));
        hash.AppendData(File.ReadAllBytes(packageFile));
        if (lockFile is not null)
        {
            hash.AppendData(File.ReadAllBytes(lockFile));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Copies what TypeScript does not emit (JSON, templates, …) from node/ to where the compiled app runs.</summary>
    private static void CopyAssets(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo folder)
            {
                if (folder.Name != "node_modules" && !folder.Name.StartsWith('.'))
                {
                    CopyAssets(folder.FullName, Path.Combine(target, folder.Name));
                }
            }
            else if (!entry.Name.EndsWith(".ts", StringComparison.Ordinal) && !entry.Name.EndsWith(".tsx", StringComparison.Ordinal))
            {
                File.Copy(entry.FullName, Path.Combine(target, entry.Name));
            }
        }
    }

    /// <summary>Keeps <c>.herald/</c> out of the app's git repository.</summary>
    private void EnsureIgnored()
    {
        var ignore = Path.Combine(_root, AppFolder.HeraldFolder, ".gitignore");
        if (!File.Exists(ignore))
        {
            File.WriteAllText(ignore, "# Made by herald link.\n*\n");
        }
    }

    /// <summary>Deletes a folder Herald made; a symbolic link inside it (node_modules) is removed, never followed.</summary>
    private static void DeleteDirectory(string path)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
    }

    private static string FindNode(CliEnvironment environment) =>
        environment.FindProgram("node")
        ?? throw new CliException("node is not on the PATH: Herald runs a VTEX IO node app with Node.js. Install Node.js and npm (e.g. apt-get install nodejs npm) and link again.");

    private static string FindNpm(CliEnvironment environment) =>
        environment.FindProgram("npm")
        ?? throw new CliException("npm is not on the PATH: Herald installs a VTEX IO node app's dependencies with it. Install npm (e.g. apt-get install npm) and link again.");
}
