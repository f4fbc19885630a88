using Herald.Manifests;

namespace Herald.Core.Tests;

public sealed class AppManifestTests
{
    private const string Valid = """
        {
          "$schema": "https://example.invalid/manifest.schema.json",
          "vendor": "vtex",
          "name": "events-example",
          "version": "0.1.0",
          "title": "Events example",
          "description": "Fires send-event every few seconds.",
          "builders": { "dotnet": "1.x" },
          "policies": [ { "name": "colossus-fire-event" }, { "name": "outbound-access", "attrs": { "host": "example.com" } } ],
          "dependencies": { "vtex.events": "0.x" }
        }
        """;

    [Fact]
    public void Parse_ValidManifest_ReadsEveryField()
    {
        var manifest = AppManifest.Parse(Valid);

        Assert.Equal("vtex", manifest.Vendor);
        Assert.Equal("events-example", manifest.Name);
        Assert.Equal("0.1.0", manifest.Version);
        Assert.Equal("Events example", manifest.Title);
        Assert.Equal("Fires send-event every few seconds.", manifest.Description);
        Assert.Equal("1.x", Assert.Single(manifest.Builders, b => b.Key == "dotnet").Value);
        Assert.Equal("0.x", manifest.Dependencies["vtex.events"]);
        Assert.Equal("vtex.events-example", manifest.SenderId);
        Assert.Equal("vtex.events-example@0.1.0", manifest.AppId);
    }

    [Fact]
    public void Parse_MinimalManifest_HasNoBuildersOrDependencies()
    {
        var manifest = AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.2.3-beta.1+build.5"}""");

        Assert.Empty(manifest.Builders);
        Assert.Empty(manifest.Dependencies);
        Assert.Null(manifest.Title);
        Assert.Equal("1.2.3-beta.1+build.5", manifest.Version);
    }

    [Fact]
    public void Parse_CommentsAndTrailingCommas_AreAllowed()
    {
        var manifest = AppManifest.Parse("""
            {
              // the app
              "vendor": "acme", "name": "app", "version": "1.0.0",
            }
            """);

        Assert.Equal("acme.app", manifest.SenderId);
    }

    [Fact]
    public void Parse_UnknownField_NamesFilePathRuleAndValue()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","colour":"blue"}""", "my-app/manifest.json"));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("my-app/manifest.json", error.File);
        Assert.Equal("$.colour", error.Path);
        Assert.Contains("is not a known field", error.Rule, StringComparison.Ordinal);
        Assert.Contains("vendor", error.Rule, StringComparison.Ordinal);
        Assert.Equal("\"blue\"", error.Value);
        Assert.StartsWith("my-app/manifest.json: $.colour: is not a known field", ex.Message, StringComparison.Ordinal);
        Assert.EndsWith("(found \"blue\")", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_MissingVendor_IsRequiredError()
    {
        var ex = Assert.Throws<ManifestException>(() => AppManifest.Parse("""{"name":"app","version":"1.0.0"}"""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("manifest.json", error.File);
        Assert.Equal("$.vendor", error.Path);
        Assert.Equal("is required", error.Rule);
        Assert.Null(error.Value);
        Assert.Equal("manifest.json: $.vendor: is required", ex.Message);
    }

    [Theory]
    [InlineData("\"1.0\"")]
    [InlineData("\"v1.0.0\"")]
    [InlineData("\"1.0.0.0\"")]
    [InlineData("\"latest\"")]
    [InlineData("\"\"")]
    public void Parse_BadVersion_NamesTheRuleAndValue(string version)
    {
        var ex = Assert.Throws<ManifestException>(() => AppManifest.Parse($$"""{ "vendor":"acme","name":"app","version":{{version}} }"""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.version", error.Path);
        Assert.Contains("semantic version", error.Rule, StringComparison.Ordinal);
        Assert.Equal(version, error.Value);
    }

    [Fact]
    public void Parse_VersionNotAString_SaysItMustBeAString()
    {
        var ex = Assert.Throws<ManifestException>(() => AppManifest.Parse("""{"vendor":"acme","name":"app","version":1}"""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.version", error.Path);
        Assert.StartsWith("must be a string", error.Rule, StringComparison.Ordinal);
        Assert.Equal("1", error.Value);
    }

    [Theory]
    [InlineData("\"1.x\"")]
    [InlineData("\"2.3.x\"")]
    [InlineData("\"0.1.0\"")]
    public void Parse_GoodBuilderVersion_IsAccepted(string builderVersion)
    {
        var manifest = AppManifest.Parse($$"""{ "vendor":"acme","name":"app","version":"1.0.0","builders": { "dotnet":{{builderVersion}} } }""");

        Assert.Equal(builderVersion.Trim('"'), manifest.Builders["dotnet"]);
    }

    [Fact]
    public void Parse_BadBuilderVersion_NamesTheBuilderPath()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","builders":{"dotnet":"latest","node":"6.x"}}"""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.builders.dotnet", error.Path);
        Assert.Contains("builder version", error.Rule, StringComparison.Ordinal);
        Assert.Equal("\"latest\"", error.Value);
    }

    [Fact]
    public void Parse_BadBuilderName_NamesTheBuilderPath()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","builders":{"Dot Net":"1.x"}}"""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.builders['Dot Net']", error.Path);
        Assert.Contains("has a name that must be", error.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BuildersNotAnObject_SaysItMustBeAnObject()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","builders":["dotnet"]}"""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.builders", error.Path);
        Assert.Equal("must be an object", error.Rule);
        Assert.Equal("[\"dotnet\"]", error.Value);
    }

    [Fact]
    public void Parse_BadDependencyName_NamesTheDependencyPath()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","dependencies":{"vtex":"0.x"}}"""));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$.dependencies.vtex", error.Path);
        Assert.Contains(Names.SenderRule, error.Rule, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_PoliciesWithUnknownFieldOrNoName_NamesEachItem()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","policies":[{"name":"a","scope":"x"},{"attrs":{}},{"name":"b","attrs":1}]}"""));

        Assert.Collection(
            ex.Errors,
            e => Assert.Equal("$.policies[0].scope", e.Path),
            e =>
            {
                Assert.Equal("$.policies[1].name", e.Path);
                Assert.Equal("is required", e.Rule);
            },
            e => Assert.Equal("$.policies[2].attrs", e.Path));
    }

    [Fact]
    public void Parse_PoliciesNotAnArray_SaysWhatItMustBe()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"acme","name":"app","version":"1.0.0","policies":{"name":"a"}}"""));

        Assert.Equal("$.policies", Assert.Single(ex.Errors).Path);
    }

    [Theory]
    [InlineData("{")]
    [InlineData("{\"vendor\": }")]
    [InlineData("")]
    [InlineData("not json")]
    public void Parse_InvalidJson_SaysSoAtTheRoot(string json)
    {
        var ex = Assert.Throws<ManifestException>(() => AppManifest.Parse(json, "app/manifest.json"));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("app/manifest.json", error.File);
        Assert.Equal("$", error.Path);
        Assert.StartsWith("must be valid JSON: ", error.Rule, StringComparison.Ordinal);
        Assert.StartsWith("app/manifest.json: $: must be valid JSON", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_RootNotAnObject_SaysItMustBeAnObject()
    {
        var ex = Assert.Throws<ManifestException>(() => AppManifest.Parse("[1]"));

        var error = Assert.Single(ex.Errors);
        Assert.Equal("$", error.Path);
        Assert.Equal("must be an object", error.Rule);
        Assert.Equal("[1]", error.Value);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsThemAllTogether()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse("""{"vendor":"Acme","version":"one","builders":{"dotnet":"x"},"extra":true}"""));

        Assert.Equal(["$.extra", "$.vendor", "$.name", "$.version", "$.builders.dotnet"], ex.Errors.Select(e => e.Path));
        Assert.Equal("is required", ex.Errors[2].Rule);
        Assert.Equal("\"Acme\"", ex.Errors[1].Value);
        Assert.StartsWith("5 problems:", ex.Message, StringComparison.Ordinal);
        foreach (var error in ex.Errors)
        {
            Assert.Contains(error.ToString(), ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Parse_LongValue_IsShortenedInTheError()
    {
        var ex = Assert.Throws<ManifestException>(() =>
            AppManifest.Parse($$"""{"vendor":"acme","name":"app","version":"{{new string('9', 200)}}"}"""));

        var value = Assert.Single(ex.Errors).Value!;
        Assert.Equal(80, value.Length);
        Assert.EndsWith("...", value, StringComparison.Ordinal);
    }
}
