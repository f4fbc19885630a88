namespace Herald.Sdk.Internal;

/// <summary>Maps IO client names to the named <see cref="HttpClient"/>s registered for them.</summary>
internal sealed class ClientRegistry(IHttpClientFactory factory, IReadOnlySet<string> names)
{
    public const string Prefix = "herald.";

    public static string HttpClientName(string name) => Prefix + name;

    public HttpClient CreateClient(string name) =>
        factory.CreateClient(HttpClientName(names.Contains(name) ? name : HeraldClientsOptions.DefaultClientName));
}
