using System.Reflection;

namespace Herald.EndToEnd.Tests;

/// <summary>The build configuration the tests were built with, so they start the matching app builds.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class BuildConfigurationAttribute(string configuration) : Attribute
{
    public string Configuration { get; } = configuration;
}

/// <summary>Where things are in the repository.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Configuration { get; } =
        typeof(Repo).Assembly.GetCustomAttribute<BuildConfigurationAttribute>()?.Configuration ?? "Debug";

    public static string CliDll => Output("src/Herald.Cli", "Herald.Cli.dll");

    public static string LiveUsersFolder => Path.Combine(Root, "samples", "live-users");

    public static string EventsExampleFolder => Path.Combine(Root, "samples", "events-example");

    public static string TestSubscriberFolder => Path.Combine(Root, "tests", "apps", "test-subscriber");

    public static string NodeAppFolder => Path.Combine(Root, "tests", "apps", "node-app");

    public static string AppDll(string appFolder)
    {
        var project = Directory.GetFiles(Path.Combine(appFolder, "dotnet"), "*.csproj").Single();
        return Path.Combine(Path.GetDirectoryName(project)!, "bin", Configuration, "net10.0", Path.GetFileNameWithoutExtension(project) + ".dll");
    }

    private static string Output(string project, string dll) => Path.Combine(Root, project, "bin", Configuration, "net10.0", dll);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Cannot find the repository root (Herald.slnx) above " + AppContext.BaseDirectory);
    }
}
