namespace Herald.Manifests;

/// <summary>The JSON Schema of <c>service.json</c>, for editors.</summary>
public static class ServiceSchema
{
    /// <summary>The schema's text.</summary>
    public static string Text { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(ServiceSchema).Assembly.GetManifestResourceStream("Herald.Schemas.service.schema.json")
            ?? throw new InvalidOperationException("The service.json schema is missing from Herald.Core.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
