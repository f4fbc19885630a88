namespace Herald.Manifests;

/// <summary>One thing wrong in <c>manifest.json</c> or <c>service.json</c>: where, which rule, and the value found.</summary>
/// <param name="File">The file, as the user knows it (<c>dotnet/service.json</c>).</param>
/// <param name="Path">The JSON path, <c>$.events.liveUsersUpdate.keys[0]</c>.</param>
/// <param name="Rule">What the value must be.</param>
/// <param name="Value">The value found, as JSON, or <c>null</c> when the field is missing.</param>
public sealed record ManifestError(string File, string Path, string Rule, string? Value)
{
    /// <inheritdoc/>
    public override string ToString() =>
        Value is null ? $"{File}: {Path}: {Rule}" : $"{File}: {Path}: {Rule} (found {Value})";
}

/// <summary>Thrown when a manifest or service.json is invalid; carries every error found, not only the first.</summary>
public sealed class ManifestException : HeraldException
{
    public ManifestException(IReadOnlyList<ManifestError> errors)
        : base(Describe(errors))
    {
        Errors = errors;
    }

    /// <summary>Every error found.</summary>
    public IReadOnlyList<ManifestError> Errors { get; }

    private static string Describe(IReadOnlyList<ManifestError> errors) =>
        errors.Count == 1
            ? errors[0].ToString()
            : $"{errors.Count} problems:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
}
