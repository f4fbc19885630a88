using Herald.Manifests;

namespace Herald.Cli.Apps;

/// <summary>
/// An app on disk: <c>manifest.json</c>, its <c>service.json</c> and, for an app Herald builds, the
/// <c>dotnet/*.csproj</c>, validated.
/// </summary>
internal sealed record AppFolder(
    string Root,
    string ManifestText,
    string ServiceText,
    AppManifest Manifest,
    ServiceManifest Service,
    string ProjectFile)
{
    /// <summary>The folder that holds the service inside an app.</summary>
    public const string DotnetFolder = "dotnet";

    /// <summary>The folder that holds a VTEX IO node app's service.</summary>
    public const string NodeFolder = "node";

    /// <summary>The service manifest's path as users know it.</summary>
    public static readonly string ServiceFileDisplay = DotnetFolder + "/" + ServiceManifest.FileName;

    /// <summary>The app's sender id, <c>vendor.name</c>.</summary>
    public string Sender => Manifest.SenderId;

    /// <summary>
    /// Reads and validates the app in <paramref name="root"/>. Throws <see cref="AppInvalidException"/> with every
    /// error of both files, or a <see cref="CliException"/> when a file is missing.
    /// </summary>
    public static AppFolder Load(string root)
    {
        var (manifestText, serviceText, manifest, service) = LoadManifests(root, [DotnetFolder]);
        var projects = Directory.GetFiles(Path.Combine(root, DotnetFolder), "*.csproj");
        if (projects.Length != 1)
        {
            throw new CliException(projects.Length == 0
                ? $"No .csproj in {Path.Combine(root, DotnetFolder)}: the app's service is built from one project there."
                : $"{projects.Length} .csproj files in {Path.Combine(root, DotnetFolder)} ({string.Join(", ", projects.Select(Path.GetFileName))}): keep exactly one.");
        }

        return new AppFolder(root, manifestText, serviceText, manifest, service, projects[0]);
    }

    /// <summary>
    /// Reads and validates only what an app declares, for an app that runs on its own (<c>herald link --endpoint</c>):
    /// <c>manifest.json</c> and <c>dotnet/service.json</c>, or <c>node/service.json</c> when there is no dotnet one.
    /// </summary>
    public static (string ManifestText, string ServiceText, AppManifest Manifest, ServiceManifest Service) LoadDeclarations(string root) =>
        LoadManifests(root, [DotnetFolder, NodeFolder]);

    private static (string ManifestText, string ServiceText, AppManifest Manifest, ServiceManifest Service) LoadManifests(string root, string[] serviceFolders)
    {
        if (!Directory.Exists(root))
        {
            throw new CliException($"{root} does not exist: run the command in an app folder or pass --path.");
        }

        var manifestPath = Path.Combine(root, AppManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new CliException($"No {AppManifest.FileName} in {root}: run the command in an app folder (the one with manifest.json and dotnet/) or pass --path.");
        }

        var serviceFolder = serviceFolders.FirstOrDefault(folder => File.Exists(Path.Combine(root, folder, ServiceManifest.FileName)));
        if (serviceFolder is null)
        {
            throw new CliException($"No {string.Join(" or ", serviceFolders.Select(f => f + "/" + ServiceManifest.FileName))} in {root}: an app declares its routes and events there.");
        }

        var serviceDisplay = serviceFolder + "/" + ServiceManifest.FileName;
        var manifestText = File.ReadAllText(manifestPath);
        var serviceText = File.ReadAllText(Path.Combine(root, serviceFolder, ServiceManifest.FileName));
        var errors = new List<ManifestError>();
        AppManifest? manifest = null;
        ServiceManifest? service = null;
        try
        {
            manifest = AppManifest.Parse(manifestText, AppManifest.FileName);
        }
        catch (ManifestException e)
        {
            errors.AddRange(e.Errors);
        }

        try
        {
            service = ServiceManifest.Parse(serviceText, serviceDisplay);
        }
        catch (ManifestException e)
        {
            errors.AddRange(e.Errors);
        }

        if (errors.Count > 0)
        {
            throw new AppInvalidException(root, errors);
        }

        return (manifestText, serviceText, manifest!, service!);
    }

    /// <summary>Reads only the sender id (<c>vendor.name</c>) of the app in <paramref name="root"/>.</summary>
    public static string ReadSender(string root)
    {
        var manifestPath = Path.Combine(root, AppManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new CliException($"No {AppManifest.FileName} in {root}: name the app (vendor.name) or run the command in its folder.");
        }

        try
        {
            return AppManifest.Parse(File.ReadAllText(manifestPath)).SenderId;
        }
        catch (ManifestException e)
        {
            throw new AppInvalidException(root, e.Errors);
        }
    }
}

/// <summary>An app's manifest or service.json is invalid; carries every error.</summary>
internal sealed class AppInvalidException : CliException
{
    public AppInvalidException(string root, IReadOnlyList<ManifestError> errors)
        : base(Describe(root, errors))
    {
        Errors = errors;
    }

    /// <summary>Every error found.</summary>
    public IReadOnlyList<ManifestError> Errors { get; }

    private static string Describe(string root, IReadOnlyList<ManifestError> errors) =>
        $"The app in {root} is invalid ({errors.Count} {(errors.Count == 1 ? "error" : "errors")}); nothing was linked:"
        + string.Concat(errors.Select(e => Environment.NewLine + "  " + e));
}
