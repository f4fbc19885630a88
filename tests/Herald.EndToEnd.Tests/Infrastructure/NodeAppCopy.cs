namespace Herald.EndToEnd.Tests;

/// <summary>
/// A copy of <c>tests/apps/node-app</c> in a temporary folder (without <c>node_modules</c> or <c>.herald</c>), for a test
/// to link and edit; deleted on dispose.
/// </summary>
public sealed class NodeAppCopy : IDisposable
{
    public NodeAppCopy()
    {
        Root = Path.Combine(Directory.CreateTempSubdirectory("herald-node-app-").FullName, "node-app");
        Copy(Repo.NodeAppFolder, Root);
    }

    public string Root { get; }

    /// <summary>Where link starts the app, <c>http://127.0.0.1:PORT</c>, from a line <c>Linked …</c> or <c>Relinked … (app on URL).</c>.</summary>
    public static string Endpoint(string linkLine) => linkLine[(linkLine.LastIndexOf("app on ", StringComparison.Ordinal) + "app on ".Length)..].TrimEnd(')', '.');

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path.GetDirectoryName(Root)!, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static void Copy(string source, string target)
    {
        Directory.CreateDirectory(target);
        foreach (var entry in new DirectoryInfo(source).EnumerateFileSystemInfos())
        {
            if (entry is DirectoryInfo folder)
            {
                if (folder.Name is not ("node_modules" or ".herald"))
                {
                    Copy(folder.FullName, Path.Combine(target, folder.Name));
                }
            }
            else
            {
                File.Copy(entry.FullName, Path.Combine(target, entry.Name));
            }
        }
    }
}
