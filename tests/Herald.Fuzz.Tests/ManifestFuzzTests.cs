using Herald.Manifests;

namespace Herald.Fuzz.Tests;

/// <summary>
/// Short runs of the manifest fuzzers (the long ones are bench/Herald.Fuzz). The seed is fixed: a failure names the
/// input's index, and <c>dotnet run --project bench/Herald.Fuzz -- --target service --seed 424242 --show N</c>
/// prints it.
/// </summary>
public sealed class ManifestFuzzTests(ITestOutputHelper output)
{
    private const int Seed = 424_242;
    private const int Inputs = 2_000;

    [Fact]
    public void ServiceManifestParse_MutatedDocuments_ThrowOnlyManifestException()
    {
        var report = ManifestFuzzer.Run(new ManifestFuzzOptions(ManifestTarget.Service, Inputs, TimeSpan.FromSeconds(40), Seed, TimeSpan.FromSeconds(10)));

        AssertClean(report);
    }

    [Fact]
    public void AppManifestParse_MutatedDocuments_ThrowOnlyManifestException()
    {
        var report = ManifestFuzzer.Run(new ManifestFuzzOptions(ManifestTarget.App, Inputs, TimeSpan.FromSeconds(40), Seed, TimeSpan.FromSeconds(10)));

        AssertClean(report);
    }

    [Theory]
    [InlineData(ManifestTarget.Service)]
    [InlineData(ManifestTarget.App)]
    public void Generator_UnmutatedDocuments_AreAccepted(ManifestTarget target)
    {
        for (var i = 0; i < 300; i++)
        {
            var input = ManifestFuzzer.ValidInput(target, Seed, i);
            var outcome = ManifestFuzzer.Check(target, input, out var failure);

            Assert.True(outcome == "accepted" && failure is null, $"generated document #{i} was not accepted ({outcome}): {input}");
        }
    }

    [Fact]
    public void Generator_SameSeedAndIndex_GivesTheSameInput()
    {
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(ManifestFuzzer.Input(ManifestTarget.Service, Seed, i), ManifestFuzzer.Input(ManifestTarget.Service, Seed, i));
        }

        Assert.NotEqual(ManifestFuzzer.Input(ManifestTarget.App, Seed, 1), ManifestFuzzer.Input(ManifestTarget.App, Seed + 1, 1));
    }

    [Fact]
    public void Check_RejectedDocuments_AreRejectionsNotFailures()
    {
        // The oracle itself: a document the parser rejects is not a crash; a non-JSON document is a rejection too.
        Assert.Equal("rejected: must be a whole number", ManifestFuzzer.Check(ManifestTarget.Service, """{"memory": 4096}""", out var none));
        Assert.Null(none);
        Assert.StartsWith("rejected: must be valid JSON", ManifestFuzzer.Check(ManifestTarget.Service, "{", out _), StringComparison.Ordinal);
        Assert.Throws<ManifestException>(() => ServiceManifest.Parse("[]"));
    }

    private void AssertClean(FuzzReport report)
    {
        report.Print(new OutputWriter(output));
        Assert.False(report.Hung, "an input hung the parser");
        Assert.True(report.FailureCount == 0, string.Join(Environment.NewLine, report.Failures));
        Assert.True(report.Inputs > 0);

        // Structure-aware: a good share of inputs get past JSON parsing to the field rules, and some are accepted.
        var outcomes = report.Outcomes;
        Assert.Contains("accepted", outcomes.Keys);
        Assert.True(outcomes.Keys.Count(k => k.StartsWith("rejected: ", StringComparison.Ordinal) && !k.Contains("valid JSON", StringComparison.Ordinal)) >= 5, string.Join(", ", outcomes.Keys));
    }
}
