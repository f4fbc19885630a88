using System.Text.Json;
using Herald.Delivery;

namespace Herald.Manifests;

/// <summary>A per-replica rate limit: requests per minute and requests at once.</summary>
public sealed record RateLimit(int? PerMinute, int? Concurrent);

/// <summary>A route an app declares in <c>service.json</c>.</summary>
public sealed record RouteDeclaration(string Id, RoutePattern Path, bool Public, string? Access, RateLimit? RateLimitPerReplica);

/// <summary>
/// One entry of <c>events</c> in <c>service.json</c>: a handler, the sender it listens to (any when absent),
/// the keys or topics, and the delivery policy the broker applies.
/// </summary>
public sealed record EventDeclaration(
    string HandlerId,
    string? Sender,
    IReadOnlyList<string> Keys,
    bool KeysAreTopics,
    string? SettingsType,
    RateLimit? RateLimitPerReplica,
    DeliveryPolicy Delivery);

/// <summary>An app's <c>dotnet/service.json</c>: its runtime, routes and events.</summary>
public sealed record ServiceManifest(
    int Memory,
    int Ttl,
    int Timeout,
    int MinReplicas,
    int MaxReplicas,
    int Workers,
    RateLimit? RateLimitPerReplica,
    IReadOnlyDictionary<string, RouteDeclaration> Routes,
    IReadOnlyDictionary<string, EventDeclaration> Events)
{
    /// <summary>The file name.</summary>
    public const string FileName = "service.json";

    private static readonly string[] Fields =
    [
        "$schema", "stack", "memory", "ttl", "timeout", "minReplicas", "maxReplicas", "workers", "cpu", "runtimeArgs",
        "rateLimitPerReplica", "routes", "events",
    ];

    private static readonly string[] RouteFields = ["path", "public", "access", "policies", "rateLimitPerReplica", "smartcache", "extensible", "settingsType"];

    private static readonly string[] EventFields = ["sender", "keys", "topics", "subject", "settingsType", "rateLimitPerReplica", "delivery"];

    private static readonly string[] Stacks = ["nodejs", "dotnet"];

    private static readonly string[] RouteSettingsTypes = ["pure", "workspace", "userAndWorkspace"];

    private static readonly string[] DeliveryFields =
    [
        "retries", "timeout", "exponentialTimeoutCoefficient", "initialBackoffDelay", "exponentialBackoffCoefficient",
        "maxBackoffDelay", "concurrency", "maxEventAge",
    ];

    private static readonly string[] SettingsTypes = ["workspace", "userAndWorkspace"];

    private static readonly string[] AccessValues = ["public", "authorized"];

    /// <summary>Parses and validates <c>service.json</c>; throws <see cref="ManifestException"/> with every error found.</summary>
    /// <param name="json">The file's text.</param>
    /// <param name="file">The file name to use in errors, e.g. <c>dotnet/service.json</c>.</param>
    public static ServiceManifest Parse(string json, string file = FileName)
    {
        var root = JsonValidator.Parse(file, json, out var parseError);
        if (root is not { } element)
        {
            throw new ManifestException([parseError!]);
        }

        var v = new JsonValidator(file);
        if (!v.Object(element, "$", Fields))
        {
            throw new ManifestException(v.Errors);
        }

        var memory = v.Int(element, "$", "memory", 1, 1024) ?? 128;
        var ttl = v.Int(element, "$", "ttl", 10, 60) ?? 10;
        var timeout = v.Int(element, "$", "timeout", 1, 60) ?? 10;
        var declaredMinReplicas = v.Int(element, "$", "minReplicas", 1, 80);
        var minReplicas = declaredMinReplicas ?? 2;
        var maxReplicas = v.Int(element, "$", "maxReplicas", 1, 80) ?? Math.Max(minReplicas, 10);
        var minReplicasInvalid = declaredMinReplicas is null && element.TryGetProperty("minReplicas", out var minValue) && minValue.ValueKind != JsonValueKind.Null;
        if (maxReplicas < minReplicas && !minReplicasInvalid)
        {
            v.Error("$.maxReplicas", $"must be at least minReplicas ({minReplicas})", element.GetProperty("maxReplicas"));
        }

        var workers = v.Int(element, "$", "workers", 1, 4) ?? 1;
        // What VTEX IO runs the service on: checked, and of no use to Herald, which runs the app as it is.
        v.String(element, "$", "stack", Stacks.Contains, "one of " + string.Join(", ", Stacks));
        v.StringArray(element, "$", "runtimeArgs", s => s.Length > 0, "a runtime argument", nonEmpty: false);
        if (v.Get(element, "$", "cpu", false, out var cpu) && cpu.ValueKind != JsonValueKind.Object)
        {
            v.Error("$.cpu", "must be an object", cpu);
        }

        var rateLimit = ReadRateLimit(v, element, "$");
        var routes = ReadRoutes(v, element);
        var events = ReadEvents(v, element, timeout, rateLimit);

        if (v.Errors.Count > 0)
        {
            throw new ManifestException(v.Errors);
        }

        return new ServiceManifest(memory, ttl, timeout, minReplicas, maxReplicas, workers, rateLimit, routes, events);
    }

    private static RateLimit? ReadRateLimit(JsonValidator v, JsonElement parent, string path)
    {
        if (!v.Get(parent, path, "rateLimitPerReplica", false, out var value))
        {
            return null;
        }

        var limitPath = JsonValidator.Child(path, "rateLimitPerReplica");
        if (!v.Object(value, limitPath, ["perMinute", "concurrent"]))
        {
            return null;
        }

        return new RateLimit(v.Int(value, limitPath, "perMinute", 1, 1_000_000), v.Int(value, limitPath, "concurrent", 1, 10_000));
    }

    private static Dictionary<string, RouteDeclaration> ReadRoutes(JsonValidator v, JsonElement root)
    {
        var routes = new Dictionary<string, RouteDeclaration>(StringComparer.Ordinal);
        if (!v.Get(root, "$", "routes", false, out var value))
        {
            return routes;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            v.Error("$.routes", "must be an object of route id → {path, public}", value);
            return routes;
        }

        foreach (var property in value.EnumerateObject())
        {
            var path = JsonValidator.Child("$.routes", property.Name);
            if (!Names.IsHandlerId(property.Name))
            {
                v.Error(path, "has an id that must be " + Names.HandlerIdRule, null);
                continue;
            }

            var route = property.Value;
            if (!v.Object(route, path, RouteFields))
            {
                continue;
            }

            var pattern = v.String(route, path, "path", s => RoutePattern.TryParse(s) is not null, RoutePattern.Rule, required: true);
            var isPublic = v.Bool(route, path, "public") ?? false;
            var access = v.String(route, path, "access", AccessValues.Contains, "one of " + string.Join(", ", AccessValues));
            // VTEX IO's cache and settings options: checked, and of no use to Herald's router.
            v.Bool(route, path, "smartcache");
            v.Bool(route, path, "extensible");
            v.String(route, path, "settingsType", RouteSettingsTypes.Contains, "one of " + string.Join(", ", RouteSettingsTypes));
            if (v.Get(route, path, "policies", false, out var policies) && policies.ValueKind != JsonValueKind.Array)
            {
                v.Error(path + ".policies", "must be an array", policies);
            }

            var limit = ReadRateLimit(v, route, path);
            if (pattern is not null)
            {
                routes[property.Name] = new RouteDeclaration(property.Name, RoutePattern.TryParse(pattern)!, isPublic, access, limit);
            }
        }

        return routes;
    }

    private static Dictionary<string, EventDeclaration> ReadEvents(JsonValidator v, JsonElement root, int serviceTimeout, RateLimit? serviceLimit)
    {
        var events = new Dictionary<string, EventDeclaration>(StringComparer.Ordinal);
        if (!v.Get(root, "$", "events", false, out var value))
        {
            return events;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            v.Error("$.events", "must be an object of handler id → {sender, keys}", value);
            return events;
        }

        foreach (var property in value.EnumerateObject())
        {
            var path = JsonValidator.Child("$.events", property.Name);
            if (!Names.IsHandlerId(property.Name))
            {
                v.Error(path, "has a handler id that must be " + Names.HandlerIdRule, null);
                continue;
            }

            var declaration = property.Value;
            if (!v.Object(declaration, path, EventFields))
            {
                continue;
            }

            var sender = v.String(declaration, path, "sender", Names.IsDeclaredSender, Names.DeclaredSenderRule);
            var keys = v.StringArray(declaration, path, "keys", Names.IsKey, Names.KeyRule, nonEmpty: true);
            var topics = v.StringArray(declaration, path, "topics", Names.IsKey, Names.KeyRule, nonEmpty: true);
            v.String(declaration, path, "subject", _ => true, "a string");
            var hasKeys = declaration.TryGetProperty("keys", out var keysValue) && keysValue.ValueKind != JsonValueKind.Null;
            var hasTopics = declaration.TryGetProperty("topics", out var topicsValue) && topicsValue.ValueKind != JsonValueKind.Null;
            var hasSender = declaration.TryGetProperty("sender", out var senderValue) && senderValue.ValueKind != JsonValueKind.Null;
            if (hasKeys && hasTopics)
            {
                v.Error(path, "must have either 'keys' or 'topics', not both", null);
            }
            else if (!hasKeys && !hasTopics && !hasSender)
            {
                v.Error(path, "must have 'keys' (or 'topics'), or a 'sender' whose every event it takes: the events this handler listens to", null);
            }

            var settingsType = v.String(declaration, path, "settingsType", SettingsTypes.Contains, "one of " + string.Join(", ", SettingsTypes));
            var limit = ReadRateLimit(v, declaration, path);
            var delivery = ReadDelivery(v, declaration, path, serviceTimeout, limit?.Concurrent ?? serviceLimit?.Concurrent);
            events[property.Name] = new EventDeclaration(property.Name, sender, keys ?? topics ?? [], hasTopics && !hasKeys, settingsType, limit, delivery);
        }

        return events;
    }

    private static DeliveryPolicy ReadDelivery(JsonValidator v, JsonElement declaration, string path, int serviceTimeout, int? concurrent)
    {
        var defaults = new DeliveryPolicy
        {
            Timeout = serviceTimeout * 1000,
            Concurrency = concurrent ?? DeliveryPolicy.DefaultConcurrency,
        };
        if (!v.Get(declaration, path, "delivery", false, out var value))
        {
            return defaults;
        }

        var deliveryPath = path + ".delivery";
        if (!v.Object(value, deliveryPath, DeliveryFields))
        {
            return defaults;
        }

        var policy = new DeliveryPolicy
        {
            Retries = v.Int(value, deliveryPath, "retries", 0, 100) ?? defaults.Retries,
            Timeout = v.Int(value, deliveryPath, "timeout", 1, 3_600_000) ?? defaults.Timeout,
            ExponentialTimeoutCoefficient = v.Number(value, deliveryPath, "exponentialTimeoutCoefficient", 1, 10) ?? defaults.ExponentialTimeoutCoefficient,
            InitialBackoffDelay = v.Int(value, deliveryPath, "initialBackoffDelay", 0, 3_600_000) ?? defaults.InitialBackoffDelay,
            ExponentialBackoffCoefficient = v.Number(value, deliveryPath, "exponentialBackoffCoefficient", 1, 10) ?? defaults.ExponentialBackoffCoefficient,
            MaxBackoffDelay = v.Int(value, deliveryPath, "maxBackoffDelay", 0, 86_400_000) ?? defaults.MaxBackoffDelay,
            Concurrency = v.Int(value, deliveryPath, "concurrency", 1, 1000) ?? defaults.Concurrency,
            MaxEventAge = v.Int(value, deliveryPath, "maxEventAge", 1000, int.MaxValue) ?? defaults.MaxEventAge,
        };
        return policy;
    }
}
