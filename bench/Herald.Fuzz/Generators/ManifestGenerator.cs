using Herald.Fuzz.Json;

namespace Herald.Fuzz.Generators;

/// <summary>
/// Valid <c>service.json</c> and <c>manifest.json</c> documents with random fields, as docs/service-json.md allows
/// them. The mutators start from these, so most inputs are near misses of a real file rather than noise.
/// </summary>
public static class ManifestGenerator
{
    public static JObject Service(Random random)
    {
        var doc = new JObject();
        if (random.Next(8) == 0)
        {
            doc.Add("$schema", new JString("../../src/Herald.Core/Schemas/service.schema.json"));
        }

        Maybe(random, doc, "memory", () => JNumber.Of(random.Next(1, 1025)));
        Maybe(random, doc, "ttl", () => JNumber.Of(random.Next(10, 61)));
        Maybe(random, doc, "timeout", () => JNumber.Of(random.Next(1, 61)));
        var min = random.Next(1, 81);
        if (random.Next(2) == 0)
        {
            doc.Add("minReplicas", JNumber.Of(min));
            Maybe(random, doc, "maxReplicas", () => JNumber.Of(random.Next(min, 81)));
        }
        else if (random.Next(2) == 0)
        {
            doc.Add("maxReplicas", JNumber.Of(random.Next(2, 81)));
        }

        Maybe(random, doc, "workers", () => JNumber.Of(random.Next(1, 5)));
        Maybe(random, doc, "rateLimitPerReplica", () => RateLimit(random));
        if (random.Next(3) == 0)
        {
            var routes = new JObject();
            var count = random.Next(4);
            for (var i = 0; i < count; i++)
            {
                routes.Add(Strings.HandlerId(random, 100) + i, Route(random));
            }

            doc.Add("routes", routes);
        }

        if (random.Next(5) != 0)
        {
            var events = new JObject();
            var count = random.Next(1, 4);
            for (var i = 0; i < count; i++)
            {
                events.Add(Strings.HandlerId(random, 100) + i, Event(random));
            }

            doc.Add("events", events);
        }

        return doc;
    }

    public static JObject App(Random random)
    {
        var doc = new JObject()
            .Add("vendor", new JString(Strings.AppName(random)))
            .Add("name", new JString(Strings.AppName(random)))
            .Add("version", new JString(Version(random)));
        Maybe(random, doc, "title", () => new JString(Strings.WellFormed(Strings.Any(random, 80))));
        Maybe(random, doc, "description", () => new JString(Strings.WellFormed(Strings.Any(random, 200))));
        Maybe(random, doc, "builders", () => new JObject().Add("dotnet", new JString(random.Next(3) switch
        {
            0 => $"{random.Next(10)}.x",
            1 => $"{random.Next(10)}.{random.Next(10)}.x",
            _ => $"{random.Next(10)}.{random.Next(10)}.{random.Next(10)}",
        })));
        Maybe(random, doc, "policies", () =>
        {
            var policies = new JArray();
            for (var i = random.Next(3); i > 0; i--)
            {
                var policy = new JObject().Add("name", new JString(random.Next(2) == 0 ? "colossus-fire-event" : Strings.WellFormed(Strings.Any(random, 40)) + "x"));
                if (random.Next(3) == 0)
                {
                    policy.Add("attrs", new JObject().Add("host", new JString("example.com")));
                }

                policies.Add(policy);
            }

            return policies;
        });
        Maybe(random, doc, "dependencies", () => new JObject().Add(Strings.AppName(random) + "." + Strings.AppName(random), new JString("0.x")));
        Maybe(random, doc, "peerDependencies", () => new JObject().Add("vtex.events", new JString("1.x")));
        if (random.Next(6) == 0)
        {
            // VTEX IO fields accepted unchecked: any value will do.
            var unchecked_ = new[] { "settingsSchema", "credentialType", "registries", "mustUpdateAt", "categories", "scripts", "billingOptions" };
            JNode[] values = [new JObject().Add("type", new JString("object")), new JArray().Add(new JString("x")), new JString("vtex"), JNumber.Of(1), new JBool(true)];
            doc.Add(unchecked_[random.Next(unchecked_.Length)], values[random.Next(values.Length)]);
        }

        return doc;
    }

    private static string Version(Random random)
    {
        var version = $"{random.Next(20)}.{random.Next(20)}.{random.Next(100)}";
        if (random.Next(4) == 0)
        {
            version += "-beta." + random.Next(10);
        }

        if (random.Next(6) == 0)
        {
            version += "+build." + random.Next(1000);
        }

        return version;
    }

    private static JObject RateLimit(Random random)
    {
        var limit = new JObject();
        Maybe(random, limit, "perMinute", () => JNumber.Of(random.Next(1, 1_000_001)));
        Maybe(random, limit, "concurrent", () => JNumber.Of(random.Next(1, 10_001)));
        return limit;
    }

    private static JObject Route(Random random)
    {
        var segments = new List<string>();
        var count = random.Next(1, 5);
        for (var i = 0; i < count; i++)
        {
            var last = i == count - 1;
            segments.Add(random.Next(4) switch
            {
                0 => ":" + Strings.HandlerId(random, 100),
                1 when last => "*" + Strings.HandlerId(random, 100),
                _ => i == 0 ? "_v" : Strings.AppName(random),
            });
        }

        var route = new JObject().Add("path", new JString("/" + string.Join('/', segments)));
        Maybe(random, route, "public", () => new JBool(random.Next(2) == 0));
        Maybe(random, route, "access", () => new JString(random.Next(2) == 0 ? "public" : "authorized"));
        Maybe(random, route, "policies", () => new JArray());
        Maybe(random, route, "rateLimitPerReplica", () => RateLimit(random));
        return route;
    }

    private static JObject Event(Random random)
    {
        var declaration = new JObject();
        Maybe(random, declaration, "sender", () => new JString(Strings.AppName(random) + "." + Strings.AppName(random)));
        var keys = new JArray();
        for (var i = random.Next(1, 4); i > 0; i--)
        {
            keys.Add(new JString(Strings.Key(random)));
        }

        declaration.Add(random.Next(5) == 0 ? "topics" : "keys", keys);
        Maybe(random, declaration, "settingsType", () => new JString(random.Next(2) == 0 ? "workspace" : "userAndWorkspace"));
        Maybe(random, declaration, "rateLimitPerReplica", () => RateLimit(random));
        Maybe(random, declaration, "delivery", () =>
        {
            var delivery = new JObject();
            Maybe(random, delivery, "retries", () => JNumber.Of(random.Next(0, 101)));
            Maybe(random, delivery, "timeout", () => JNumber.Of(random.Next(1, 3_600_001)));
            Maybe(random, delivery, "exponentialTimeoutCoefficient", () => JNumber.Of(1 + (random.NextDouble() * 9)));
            Maybe(random, delivery, "initialBackoffDelay", () => JNumber.Of(random.Next(0, 3_600_001)));
            Maybe(random, delivery, "exponentialBackoffCoefficient", () => JNumber.Of(1 + (random.NextDouble() * 9)));
            Maybe(random, delivery, "maxBackoffDelay", () => JNumber.Of(random.Next(0, 86_400_001)));
            Maybe(random, delivery, "concurrency", () => JNumber.Of(random.Next(1, 1001)));
            Maybe(random, delivery, "maxEventAge", () => JNumber.Of(random.Next(1000, int.MaxValue)));
            return delivery;
        });
        return declaration;
    }

    private static void Maybe(Random random, JObject target, string key, Func<JNode> value)
    {
        if (random.Next(2) == 0)
        {
            target.Add(key, value());
        }
    }
}
