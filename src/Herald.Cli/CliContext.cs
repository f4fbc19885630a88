using System.Text.Json;
using System.Text.Json.Serialization;

namespace Herald.Cli;

/// <summary>
/// The CLI's context, kept in <c>$HERALD_HOME/config.json</c>: the broker of the last <c>herald up</c>, its data
/// folder, and the account and workspace commands work in.
/// </summary>
internal sealed record CliContext
{
    /// <summary>The account used when none was chosen.</summary>
    public const string DefaultAccount = "local";

    /// <summary>The workspace used when none was chosen.</summary>
    public const string DefaultWorkspace = "dev";

    /// <summary>The broker URL used when none was given.</summary>
    public const string DefaultBrokerUrl = "http://127.0.0.1:8080";

    /// <summary>The file name inside Herald's home folder.</summary>
    public const string FileName = "config.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The broker's URL, as recorded by <c>herald up</c>.</summary>
    public string? Broker { get; init; }

    /// <summary>The data folder of the last <c>herald up</c> (where <c>admin.token</c> is).</summary>
    public string? DataDirectory { get; init; }

    /// <summary>The account commands work in.</summary>
    public string Account { get; init; } = DefaultAccount;

    /// <summary>The workspace commands work in.</summary>
    public string Workspace { get; init; } = DefaultWorkspace;

    /// <summary>The context file in <paramref name="homeDirectory"/>.</summary>
    public static string PathIn(string homeDirectory) => Path.Combine(homeDirectory, FileName);

    /// <summary>Reads the context from <paramref name="homeDirectory"/>; the defaults when there is no file yet.</summary>
    public static CliContext Load(string homeDirectory)
    {
        var file = PathIn(homeDirectory);
        if (!File.Exists(file))
        {
            return new CliContext();
        }

        try
        {
            var context = JsonSerializer.Deserialize<CliContext>(File.ReadAllText(file), Json) ?? new CliContext();
            return context with
            {
                Account = string.IsNullOrEmpty(context.Account) ? DefaultAccount : context.Account,
                Workspace = string.IsNullOrEmpty(context.Workspace) ? DefaultWorkspace : context.Workspace,
            };
        }
        catch (JsonException e)
        {
            throw new CliException($"{file} is not valid JSON ({e.Message}). Fix it or delete it to start over with the defaults.", ExitCodes.UserError, e);
        }
    }

    /// <summary>Writes the context to <paramref name="homeDirectory"/> (atomically: a temporary file, then a rename).</summary>
    public void Save(string homeDirectory)
    {
        Directory.CreateDirectory(homeDirectory);
        var file = PathIn(homeDirectory);
        var temporary = file + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(this, Json) + "\n");
        File.Move(temporary, file, overwrite: true);
    }
}
