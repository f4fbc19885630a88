using Herald.Storage.Nats.Internal;
using Herald.Storage.Nats.Tests.Fixtures;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Herald.Storage.Nats.Tests;

/// <summary>The store reads the server's version and asks for a newer feature only where the server has it.</summary>
public sealed class ServerVersionTests
{
    [Theory]
    [InlineData("2.9.10", "2.9.10", true, false)]
    [InlineData("v2.9.0", "2.9.0", true, false)]
    [InlineData("2.10.0", "2.10.0", true, true)]
    [InlineData("2.11.4-RC.2", "2.11.4", true, true)]
    [InlineData("2.8.4", "2.8.4", false, false)]
    [InlineData("2", "2.0.0", false, false)]
    [InlineData("", "0.0", false, false)]
    [InlineData(null, "0.0", false, false)]
    [InlineData("two.nine", "0.0", false, false)]
    public void AVersion_GivesTheFeaturesOfThatServer(string? version, string read, bool supported, bool compression)
    {
        var features = ServerFeatures.Parse(version);

        Assert.Equal(Version.Parse(read), features.Version);
        Assert.Equal(supported, features.IsSupported);
        Assert.Equal(compression, features.HasStreamCompression);
    }
}

/// <summary>On the server these machines install (2.9.10), the store asks for no 2.10 feature.</summary>
[Collection(NatsServerCollection.Name)]
public sealed class ServerVersionOnRealServerTests(NatsServerFixture nats)
{
    [Fact]
    public async Task OnTheInstalledServer_TheStoreReadsItsVersion_AndCompressesStreamsOnlyFrom2Point10()
    {
        var factory = new NatsStoreFactory(nats.ClientUrl, 1);
        await using (factory)
        {
            var store = new NatsEventStore(factory.StoreOptions);
            await using (store)
            {
                await store.InitializeAsync();
                Assert.Equal(NatsServerProcess.Version.ToString(3), store.Server.Version.ToString(3));

                await using var connection = new NatsConnection(new NatsOpts { Url = nats.ClientUrl });
                var stream = await new NatsJSContext(connection).GetStreamAsync(store.Names.EventsStream);
                var expected = store.Server.HasStreamCompression ? StreamConfigCompression.S2 : StreamConfigCompression.None;
                Assert.Equal(expected, stream.Info.Config.Compression);
            }
        }
    }
}
