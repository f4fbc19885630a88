using Herald.Manifests;

namespace Herald.Sdk.Internal;

/// <summary>
/// Finds and parses the app's <c>manifest.json</c> and <c>service.json</c>: under <c>HERALD_APP_ROOT</c>
/// (<c>manifest.json</c>, <c>dotnet/service.json</c>) when set, else in the app's output folder.
/// </summary>
internal static class ManifestLoader
{
    public const string ServiceFileInApp = "dotnet/" + ServiceManifest.FileName;

    public static (AppManifest App, ServiceManifest Service, string ServiceFile) Load(HeraldAppSettings settings)
    {
        string manifestPath;
        string servicePath;
        if (settings.AppRoot is { } root)
        {
            if (!Directory.Exists(root))
            {
                throw new HeraldConfigurationException(
                    $"{HeraldAppSettings.AppRootKey} is '{root}', which is not a folder: point it at the app folder that holds {AppManifest.FileName} and {ServiceFileInApp}.");
            }

            manifestPath = Path.Combine(root, AppManifest.FileName);
            servicePath = Path.Combine(root, "dotnet", ServiceManifest.FileName);
        }
        else
        {
            var baseDirectory = AppContext.BaseDirectory;
            manifestPath = Path.Combine(baseDirectory, AppManifest.FileName);
            servicePath = Path.Combine(baseDirectory, ServiceManifest.FileName);
            if (!File.Exists(servicePath))
            {
                servicePath = Path.Combine(baseDirectory, "dotnet", ServiceManifest.FileName);
            }
        }

        var manifestText = Read(manifestPath, AppManifest.FileName);
        var serviceText = Read(servicePath, ServiceFileInApp);
        var app = AppManifest.Parse(manifestText, AppManifest.FileName);
        var service = ServiceManifest.Parse(serviceText, ServiceFileInApp);
        return (app, service, ServiceFileInApp);
    }

    private static string Read(string path, string name)
    {
        if (!File.Exists(path))
        {
            throw new HeraldConfigurationException(
                $"{name} was not found at '{path}'. Run the app with 'herald link' (which sets {HeraldAppSettings.AppRootKey} to the app folder), set {HeraldAppSettings.AppRootKey} yourself, or copy {AppManifest.FileName} and {ServiceManifest.FileName} to the output folder in the .csproj.");
        }

        return File.ReadAllText(path);
    }
}
