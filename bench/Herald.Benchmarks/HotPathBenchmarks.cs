using System.Text;
using System.Text.Json;
using BenchmarkDotNet.Attributes;
using Herald.Broker.Publishing;
using Herald.Broker.Registry;
using Herald.Delivery;
using Herald.Manifests;
using Herald.Protocol;
using Herald.Storage;

namespace Herald.Benchmarks;

/// <summary>Signing and verifying a delivery (Standard Webhooks HMAC-SHA256).</summary>
[MemoryDiagnoser]
public class SignatureBenchmarks
{
    private readonly string _secret = WebhookSignature.NewSecret();
    private readonly byte[] _body = Encoding.UTF8.GetBytes("""{"random":42,"orderId":"v123456789-01","items":[1,2,3]}""");
    private string _signature = "";

    [GlobalSetup]
    public void Setup() => _signature = WebhookSignature.Sign(_secret, "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 1764244800, _body);

    [Benchmark(Baseline = true)]
    public string Sign() => WebhookSignature.Sign(_secret, "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", 1764244800, _body);

    [Benchmark]
    public SignatureCheck Verify() =>
        WebhookSignature.Verify([_secret], "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "1764244800", _signature, _body, DateTimeOffset.FromUnixTimeSeconds(1764244800));
}

/// <summary>What a publish costs before the store: validating the body and key, and routing through the registry snapshot.</summary>
[MemoryDiagnoser]
public class PublishPathBenchmarks
{
    private readonly byte[] _body = Encoding.UTF8.GetBytes("""{"random":42,"orderId":"v123456789-01","items":[1,2,3]}""");
    private RegistrySnapshot _snapshot = RegistrySnapshot.Empty;

    [Params(1, 50)]
    public int AppsInWorkspace { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var apps = new List<LinkedApp>();
        for (var i = 0; i < AppsInWorkspace; i++)
        {
            var manifest = $$"""{"vendor":"vtex","name":"app{{i}}","version":"1.0.0"}""";
            var service = """{"events":{"onSend":{"sender":"vtex.events-example","keys":["send-event"]},"onOther":{"keys":["other"]}}}""";
            var stored = new StoredApp("acme", "dev", $"vtex.app{i}", $"vtex.app{i}@1.0.0", "http://127.0.0.1:5000", "nonce", $"hash{i}", manifest, service, DateTimeOffset.UnixEpoch);
            apps.Add(new LinkedApp(stored, AppManifest.Parse(manifest), ServiceManifest.Parse(service), "token", WebhookSignature.NewSecret()));
        }

        _snapshot = new RegistrySnapshot(apps);
    }

    [Benchmark(Baseline = true)]
    public string? Validate() => PublishService.Validate("send-event", "", null, _body);

    [Benchmark]
    public int Route() => _snapshot.Route("acme", "dev", "vtex.events-example", "send-event").Count;
}

/// <summary>The delivery policy's schedule math and parsing a service.json.</summary>
[MemoryDiagnoser]
public class PolicyBenchmarks
{
    private readonly DeliveryPolicy _policy = new() { Retries = 8, InitialBackoffDelay = 1000, ExponentialBackoffCoefficient = 2 };
    private const string Tutorial = """{"memory":128,"ttl":10,"timeout":10,"minReplicas":2,"maxReplicas":10,"workers":4,"events":{"liveUsersUpdate":{"sender":"vtex.events-example","keys":["send-event"]}}}""";

    [Benchmark(Baseline = true)]
    public TimeSpan Backoff() => _policy.BackoffDelay(5, 0.5);

    [Benchmark]
    public TimeSpan Timeout() => _policy.AttemptTimeout(5);

    [Benchmark]
    public int ParseServiceJson() => ServiceManifest.Parse(Tutorial).Events.Count;

    [Benchmark]
    public JsonValueKind ParseWithJsonDocument()
    {
        using var document = JsonDocument.Parse(Tutorial);
        return document.RootElement.ValueKind;
    }
}
