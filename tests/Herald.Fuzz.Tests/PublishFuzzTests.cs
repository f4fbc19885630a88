using System.Net;
using Herald.Fuzz.Publish;

namespace Herald.Fuzz.Tests;

/// <summary>A short run of the publish fuzzer against a real broker on 127.0.0.1 with a SQLite file in a temp folder.</summary>
public sealed class PublishFuzzTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Publish_RandomRequests_Answer202Or4xxProblemAndLeaveTheBrokerWorking()
    {
        await using var broker = await FuzzBroker.StartAsync(maxBodyBytes: 4096);
        var options = new PublishFuzzOptions(Inputs: 3_000, Bound: TimeSpan.FromSeconds(30), Seed: 424_242, Concurrency: 16, MaxBodyBytes: 4096, RequestTimeout: TimeSpan.FromSeconds(20));

        var report = await PublishFuzzer.RunAsync(broker, options);

        report.Print(new OutputWriter(output));
        Assert.True(report.FailureCount == 0, string.Join(Environment.NewLine, report.Failures));
        var statuses = report.Outcomes.Keys.Select(k => k[..3]).ToHashSet();
        foreach (var status in new[] { "202", "400", "401", "403", "413" })
        {
            Assert.Contains(status, statuses);
        }

        Assert.DoesNotContain(statuses, s => s.StartsWith('5'));
        Assert.True(await broker.IsReadyAsync(), "/readyz did not answer ready after the run");
        Assert.Equal(HttpStatusCode.Accepted, await broker.PublishValidAsync());
    }
}
