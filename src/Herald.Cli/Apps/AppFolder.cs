using Herald.Manifests;

namespace Herald.Cli.Apps;

/// <summary>
/// An app on disk: <c>manifest.json</c>, its <c>service.json</c> and, for an app Herald builds, what builds and runs it
/// (a Herald .NET app's <c>dotnet/*.csproj</c>, or a VTEX IO node app's <c>node/</c>), validated.
/// </summary>
internal sealed record AppFolder(
    string Root,
    string ManifestText,
    string ServiceText,
    AppManifest Manifest,
    ServiceManifest Service,
    AppRuntime Runtime)
{
    /// <summary>The folder that holds a Herald .NET app's service.</summary>
    public const string DotnetFolder = "dotnet";

    /// <summary>The folder that holds a VTEX IO node app's service.</summary>
    public const string NodeFolder = "node";

    /// <summary>The folder inside an app where <c>herald link</c> keeps what it makes (ignored by git and the watcher).</summary>
    public const string HeraldFolder = ".herald";

    /// <summary>The app's sender id, <c>vendor.name</c>.</summary>
    public string Sender => Manifest.SenderId;

    /// <summary>
    /// Reads and validates the app in <paramref name="root"/>: <c>manifest.json</c> and <c>dotnet/service.json</c> (a
    /// Herald .NET app), or <c>node/service.json</c> when there is no dotnet one (a VTEX IO node app). Throws
    /// <see cref="AppInvalidException"/> with every error of both files, or a <see cref="CliException"/> when a file is
    /// missing.
    /// </summary>
    public static AppFolder Load(string root)
    {
        var (manifestText, serviceText, manifest, service, serviceFolder) = LoadManifests(root);
        AppRuntime runtime = serviceFolder == DotnetFolder ? DotnetRuntime.Find(root) : NodeRuntime.Find(root);
        return new AppFolder(root, manifestText, serviceText, manifest, service, runtime);
    }

    /// <summary>
    /// Reads and validates only what an app declares, for an app that runs on its own (<c>herald link --endpoint</c>):
    /// <c>manifest.json</c> and <c>dotnet/service.json</c>, or <c>node/service.json</c> when there is no dotnet one.
    /// </summary>
    public static (string ManifestText, string ServiceText, AppManifest Manifest, ServiceManifest Service) LoadDeclarations(string root)
    {
        var (manifestText, serviceText, manifest, service, _) = LoadManifests(root);
        return (manifestText, serviceText, manifest, service);
    }

    private static (string ManifestText, string ServiceText, AppManifest Manifest, ServiceManifest Service, string ServiceFolder) LoadManifests(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new CliException($"{root} does not exist: run the command in an app folder or pass --path.");
        }

        var manifestPath = Path.Combine(root, AppManifest.FileName);
        if (!File.Exists(manifestPath))
        {
            throw new CliException($"No {AppManifest.FileName} in {root}: run the command in an app folder (the one with manifest.json and dotnet/ or node/) or pass --path.");
        }

        string[] serviceFolders = [DotnetFolder, NodeFolder];
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

        return (manifestText, serviceText, manifest!, service!, serviceFolder);
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
