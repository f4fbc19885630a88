namespace Herald.EndToEnd.Tests;

/// <summary>
/// The tests that run <c>herald link</c> in the samples. It builds them in place (Debug, with Herald.Sdk), so two such
/// tests at once would build the same projects into the same folders: their classes share this collection, which xunit
/// runs one at a time.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SampleLinks
{
    public const string Name = "herald link in the samples";
}
