using System.Globalization;
using System.Text.Json;
using Herald.Manifests;

namespace Herald.Core.Tests;

public sealed class ServiceSchemaTests
{
    private static readonly JsonElement Schema = JsonDocument.Parse(ServiceSchema.Text).RootElement.Clone();

    private static string[] SchemaFields(JsonElement node) =>
        node.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    private static JsonElement Def(string name) => Schema.GetProperty("$defs").GetProperty(name);

    /// <summary>The fields the parser accepts where <paramref name="json"/> puts the unknown field <c>zzz</c>, read from its error.</summary>
    private static string[] ParserFields(string json)
    {
        var error = Assert.Single(Assert.Throws<ManifestException>(() => ServiceManifest.Parse(json)).Errors);
        const string Marker = "known fields here are ";
        var list = error.Rule[(error.Rule.IndexOf(Marker, StringComparison.Ordinal) + Marker.Length)..];
        return list.Split(", ").Order(StringComparer.Ordinal).ToArray();
    }

    [Fact]
    public void Text_IsAJsonSchemaObject()
    {
        Assert.Equal(JsonValueKind.Object, Schema.ValueKind);
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", Schema.GetProperty("$schema").GetString());
        Assert.False(Schema.GetProperty("additionalProperties").GetBoolean());
    }

    [Fact]
    public void Text_IsTheFileInTheRepository()
    {
        var file = Path.Combine(RepositoryRoot(), "src", "Herald.Core", "Schemas", "service.schema.json");

        Assert.Equal(File.ReadAllText(file).ReplaceLineEndings(), ServiceSchema.Text.ReplaceLineEndings());
    }

    [Fact]
    public void TopLevelFields_AreTheOnesTheParserAccepts()
    {
        Assert.Equal(ParserFields("""{"zzz": 1}"""), SchemaFields(Schema));
    }

    [Fact]
    public void RouteFields_AreTheOnesTheParserAccepts()
    {
        Assert.Equal(ParserFields("""{"routes": {"r": {"path": "/r", "zzz": 1}}}"""), SchemaFields(Def("route")));
    }

    [Fact]
    public void EventFields_AreTheOnesTheParserAccepts()
    {
        Assert.Equal(ParserFields("""{"events": {"e": {"keys": ["k"], "zzz": 1}}}"""), SchemaFields(Def("event")));
    }

    [Fact]
    public void DeliveryFields_AreTheOnesTheParserAccepts()
    {
        Assert.Equal(ParserFields("""{"events": {"e": {"keys": ["k"], "delivery": {"zzz": 1}}}}"""), SchemaFields(Def("delivery")));
    }

    [Fact]
    public void RateLimitFields_AreTheOnesTheParserAccepts()
    {
        Assert.Equal(ParserFields("""{"rateLimitPerReplica": {"zzz": 1}}"""), SchemaFields(Def("rateLimit")));
    }

    [Theory]
    [InlineData("memory")]
    [InlineData("ttl")]
    [InlineData("timeout")]
    [InlineData("workers")]
    [InlineData("minReplicas")]
    [InlineData("maxReplicas")]
    public void TopLevelRanges_AgreeWithTheParser(string field)
    {
        var node = Schema.GetProperty("properties").GetProperty(field);
        var other = field == "minReplicas" ? "maxReplicas" : "minReplicas";
        var otherValue = field == "minReplicas" ? 80 : 1;
        AssertRangeAgrees(node, value => $$"""{"{{other}}": {{otherValue}}, "{{field}}": {{value}}}""");
    }

    [Theory]
    [InlineData("retries")]
    [InlineData("timeout")]
    [InlineData("initialBackoffDelay")]
    [InlineData("maxBackoffDelay")]
    [InlineData("concurrency")]
    [InlineData("maxEventAge")]
    [InlineData("exponentialTimeoutCoefficient")]
    [InlineData("exponentialBackoffCoefficient")]
    public void DeliveryRanges_AgreeWithTheParser(string field)
    {
        var node = Def("delivery").GetProperty("properties").GetProperty(field);
        AssertRangeAgrees(node, value => $$"""{"events": {"e": {"keys": ["k"], "delivery": {"{{field}}": {{value}} } } } }""");
    }

    [Theory]
    [InlineData("memory", 128)]
    [InlineData("ttl", 10)]
    [InlineData("timeout", 10)]
    [InlineData("workers", 1)]
    [InlineData("minReplicas", 2)]
    [InlineData("maxReplicas", 10)]
    public void TopLevelDefaults_AgreeWithTheParser(string field, int parsed)
    {
        Assert.Equal(parsed, Schema.GetProperty("properties").GetProperty(field).GetProperty("default").GetInt32());
    }

    [Fact]
    public void DeliveryDefaults_AgreeWithTheParser()
    {
        var delivery = ServiceManifest.Parse("""{"events": {"e": {"keys": ["k"]}}}""").Events["e"].Delivery;
        var properties = Def("delivery").GetProperty("properties");

        Assert.Equal(delivery.Retries, properties.GetProperty("retries").GetProperty("default").GetInt32());
        Assert.Equal(delivery.ExponentialTimeoutCoefficient, properties.GetProperty("exponentialTimeoutCoefficient").GetProperty("default").GetDouble());
        Assert.Equal(delivery.InitialBackoffDelay, properties.GetProperty("initialBackoffDelay").GetProperty("default").GetInt32());
        Assert.Equal(delivery.ExponentialBackoffCoefficient, properties.GetProperty("exponentialBackoffCoefficient").GetProperty("default").GetDouble());
        Assert.Equal(delivery.MaxBackoffDelay, properties.GetProperty("maxBackoffDelay").GetProperty("default").GetInt32());
        Assert.Equal(delivery.MaxEventAge, properties.GetProperty("maxEventAge").GetProperty("default").GetInt64());
    }

    [Fact]
    public void NamePatterns_AgreeWithNames()
    {
        var keyPattern = Def("key").GetProperty("pattern").GetString()!;
        var senderPattern = Def("event").GetProperty("properties").GetProperty("sender").GetProperty("pattern").GetString()!;
        var handlerPattern = Schema.GetProperty("properties").GetProperty("events").GetProperty("propertyNames").GetProperty("pattern").GetString()!;

        string[] samples =
        [
            "send-event", "broadcaster.notification", "vtex.events-example", "liveUsersUpdate", "a", "A", "1", "-a", ".a", "_a",
            "a.b.c", "a b", "Vtex.app", "vtex.App", "x_y-z", new string('k', 128), new string('k', 129),
            "a" + new string('b', 62) + ".c", "a" + new string('b', 63) + ".c", "apps", "vtex.", ".vtex",
        ];
        foreach (var sample in samples)
        {
            Assert.True(Names.IsKey(sample) == System.Text.RegularExpressions.Regex.IsMatch(sample, keyPattern), $"key '{sample}'");
            Assert.True(Names.IsDeclaredSender(sample) == System.Text.RegularExpressions.Regex.IsMatch(sample, senderPattern), $"sender '{sample}'");
            Assert.True(Names.IsHandlerId(sample) == System.Text.RegularExpressions.Regex.IsMatch(sample, handlerPattern), $"handler '{sample}'");
        }
    }

    private static void AssertRangeAgrees(JsonElement node, Func<string, string> json)
    {
        var min = node.GetProperty("minimum").GetDouble();
        var max = node.GetProperty("maximum").GetDouble();
        var step = node.GetProperty("type").GetString() == "integer" ? 1 : 0.5;

        ServiceManifest.Parse(json(Format(min)));
        ServiceManifest.Parse(json(Format(max)));
        Assert.Throws<ManifestException>(() => ServiceManifest.Parse(json(Format(min - step))));
        Assert.Throws<ManifestException>(() => ServiceManifest.Parse(json(Format(max + step))));
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Herald.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Herald.slnx not found above " + AppContext.BaseDirectory);
    }
}
