using System.Text.RegularExpressions;

namespace Herald.EndToEnd.Tests;

/// <summary>
/// Herald outside the repository, as a new user takes it: the packages packed into a folder feed, the herald tool and
/// the template installed from it, an app made with <c>dotnet new herald-app</c> in a folder outside the clone, built
/// against the packed SDK, linked, and handling an event. Everything a user's machine would keep (NuGet config, tools,
/// templates, the package cache) lives in the test's own folder, and nothing is fetched from the network: the
/// packages the SDK depends on come from this machine's package cache as an offline source.
/// </summary>
public sealed partial class PackagedAppTests
{
    [GeneratedRegex(@"^\s*<Version>([^<]+)</Version>", RegexOptions.Multiline)]
    private static partial Regex VersionPattern();

    [Fact]
    public void TheTemplate_ReferencesTheSdkVersionThatIsPacked()
    {
        var version = VersionPattern().Match(File.ReadAllText(Path.Combine(Repo.Root, "Directory.Build.props"))).Groups[1].Value;
        var project = File.ReadAllText(Path.Combine(Repo.Root, "src", "Herald.Templates", "herald-app", "dotnet", "herald-app.csproj"));

        Assert.Contains($"<PackageReference Include=\"Herald.Sdk\" Version=\"{version}\" />", project, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromNothing_PackInstallNewBuildAndLink_AnAppOfOnesOwnHandlesAnEvent()
    {
        var root = Directory.CreateTempSubdirectory("herald-packaged-").FullName;
        try
        {
            await RunAsync(root);
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task RunAsync(string root)
    {
        var home = Path.Combine(root, "home");
        var machineCache = System.Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        Directory.CreateDirectory(Path.Combine(home, ".nuget", "NuGet"));
        await File.WriteAllTextAsync(Path.Combine(home, ".nuget", "NuGet", "NuGet.Config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="offline" value="{machineCache}" />
              </packageSources>
            </configuration>
            """);
        var environment = new Dictionary<string, string?>
        {
            ["HOME"] = home,
            ["DOTNET_CLI_HOME"] = home,
            ["NUGET_PACKAGES"] = Path.Combine(root, "packages"),
            ["HERALD_FEED"] = Path.Combine(root, "feed"),
            ["HERALD_HOME"] = Path.Combine(root, "herald"),
            ["HERALD_BROKER_URL"] = null,
            ["HERALD_ADMIN_TOKEN"] = null,
            ["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1",
            ["DOTNET_ADD_GLOBAL_TOOLS_TO_PATH"] = "false",
            ["DOTNET_GENERATE_ASPNET_CERTIFICATE"] = "false",
            ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1",
        };

        // The packages, from the build the test run already made when it is a Release one.
        string[] pack = Repo.Configuration == "Release" ? ["scripts/pack.sh", "--no-build"] : ["scripts/pack.sh"];
        await RunToEndAsync("pack", "bash", pack, environment, Repo.Root, TimeSpan.FromMinutes(5));
        Assert.True(File.Exists(Path.Combine(root, "feed", "Herald.Sdk.0.9.0.nupkg")), "scripts/pack.sh made no Herald.Sdk package");

        // The three commands a user runs.
        await RunToEndAsync("tool install", "dotnet", ["tool", "install", "-g", "Herald.Cli"], environment, root, TimeSpan.FromMinutes(3));
        await RunToEndAsync("new install", "dotnet", ["new", "install", "Herald.Templates"], environment, root, TimeSpan.FromMinutes(3));
        var apps = Path.Combine(root, "apps");
        Directory.CreateDirectory(apps);
        await RunToEndAsync("dotnet new", "dotnet", ["new", "herald-app", "-n", "shop-events", "--vendor", "shop"], environment, apps, TimeSpan.FromMinutes(2));
        var app = Path.Combine(apps, "shop-events");
        Assert.Contains("\"vendor\": \"shop\"", await File.ReadAllTextAsync(Path.Combine(app, "manifest.json")), StringComparison.Ordinal);
        Assert.DoesNotContain(Repo.Root, await File.ReadAllTextAsync(Path.Combine(app, "dotnet", "shop-events.csproj")), StringComparison.Ordinal);

        var herald = Path.Combine(home, ".dotnet", "tools", "herald");
        await using var broker = RunningProcess.Start("herald up", herald, ["up", "--port", "0"], environment, root);
        var listening = await broker.WaitForLineAsync("Herald broker listening on ", TimeSpan.FromMinutes(1));
        var url = new Uri(listening[listening.IndexOf("http", StringComparison.Ordinal)..].Trim());

        await using var link = RunningProcess.Start("herald link", herald, ["link"], environment, app);
        await link.WaitForLineAsync("Watching ", TimeSpan.FromMinutes(5));
        Assert.Contains(link.Lines, l => l.Contains("Linked shop.shop-events@0.1.0 in local/dev", StringComparison.Ordinal));

        // The schema shipped in the SDK package is where the template's service.json points.
        Assert.Contains("\"$schema\": \"./obj/herald/service.schema.json\"", await File.ReadAllTextAsync(Path.Combine(app, "dotnet", "service.json")), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(app, "dotnet", "obj", "herald", "service.schema.json")), "the build did not put the SDK's service.json schema in obj/herald");

        await RunToEndAsync("herald send", herald, ["send", "hello", "--data", """{"n":7}"""], environment, root, TimeSpan.FromMinutes(1));
        await link.WaitForLineAsync("Handled hello from herald.cli (attempt 1): {\"n\":7}", TimeSpan.FromMinutes(1));

        using var http = new HttpClient();
        Assert.Equal("hello from shop-events in local/dev", await http.GetStringAsync(new Uri(url, "/local/dev/_v/shop-events/hello")));

        link.Terminate();
        Assert.Equal(0, await link.WaitForExitAsync());
        broker.Terminate();
        Assert.Equal(0, await broker.WaitForExitAsync());
    }

    private static async Task RunToEndAsync(string name, string fileName, string[] arguments, Dictionary<string, string?> environment, string workingDirectory, TimeSpan deadline)
    {
        await using var process = RunningProcess.Start(name, fileName, arguments, environment, workingDirectory);
        var code = await process.WaitForExitAsync(deadline);
        Assert.True(code == 0, $"{name} ({fileName} {string.Join(' ', arguments)}) exited {code}:{System.Environment.NewLine}{process.Output}");
    }
}
