using System.Threading.RateLimiting;
using Herald.Manifests;

namespace Herald.Sdk.Internal;

/// <summary>An event handler in code joined with its declaration in <c>service.json</c>.</summary>
internal sealed record EventHandlerEntry(EventDeclaration Declaration, Func<EventContext, Task> Handler, RateLimiter? Limiter);

/// <summary>A route handler in code joined with its declaration in <c>service.json</c>.</summary>
internal sealed record RouteHandlerEntry(RouteDeclaration Declaration, Func<HeraldRouteContext, Task> Handler, RateLimiter? Limiter);

/// <summary>The checked service: manifests, handlers, limiters and settings.</summary>
internal sealed class ServiceDefinition : IDisposable
{
    private ServiceDefinition(
        AppManifest app,
        ServiceManifest service,
        string serviceFile,
        HeraldAppSettings settings,
        Dictionary<string, EventHandlerEntry> events,
        Dictionary<string, RouteHandlerEntry> routes)
    {
        App = app;
        Service = service;
        ServiceFile = serviceFile;
        Settings = settings;
        Events = events;
        Routes = routes;
    }

    public AppManifest App { get; }

    public ServiceManifest Service { get; }

    public string ServiceFile { get; }

    public HeraldAppSettings Settings { get; }

    public IReadOnlyDictionary<string, EventHandlerEntry> Events { get; }

    public IReadOnlyDictionary<string, RouteHandlerEntry> Routes { get; }

    /// <summary>Joins the code with the manifests; throws <see cref="HeraldConfigurationException"/> listing every mismatch.</summary>
    public static ServiceDefinition Create(HeraldService declared, AppManifest app, ServiceManifest service, string serviceFile, HeraldAppSettings settings)
    {
        var errors = new List<string>();
        foreach (var id in declared.Events.Keys.Where(id => !service.Events.ContainsKey(id)).Order(StringComparer.Ordinal))
        {
            errors.Add($"service.Events has a handler '{id}' that {serviceFile} does not declare: add \"{id}\": {{\"keys\": [...]}} under \"events\" in {serviceFile}, or remove the handler.");
        }

        foreach (var id in service.Events.Keys.Where(id => !declared.Events.ContainsKey(id)).Order(StringComparer.Ordinal))
        {
            errors.Add($"{serviceFile} declares the event handler '{id}' but service.Events has no handler for it: add service.Events[\"{id}\"] = ... to the service declaration, or remove '{id}' from {serviceFile}.");
        }

        foreach (var id in declared.Routes.Keys.Where(id => !service.Routes.ContainsKey(id)).Order(StringComparer.Ordinal))
        {
            errors.Add($"service.Routes has a handler '{id}' that {serviceFile} does not declare: add \"{id}\": {{\"path\": \"/_v/...\"}} under \"routes\" in {serviceFile}, or remove the handler.");
        }

        foreach (var id in service.Routes.Keys.Where(id => !declared.Routes.ContainsKey(id)).Order(StringComparer.Ordinal))
        {
            errors.Add($"{serviceFile} declares the route '{id}' but service.Routes has no handler for it: add service.Routes[\"{id}\"] = ... to the service declaration, or remove '{id}' from {serviceFile}.");
        }

        if (declared.Clients.Default is { } defaults)
        {
            errors.AddRange(defaults.Problems("service.Clients.Default"));
        }

        foreach (var (name, options) in declared.Clients.Options.OrderBy(o => o.Key, StringComparer.Ordinal))
        {
            errors.AddRange(options is null
                ? [$"service.Clients.Options[\"{name}\"] is null: give it options, or remove it."]
                : options.Problems($"service.Clients.Options[\"{name}\"]"));
        }

        errors.AddRange(declared.Events.Where(e => e.Value is null).Select(e => $"service.Events[\"{e.Key}\"] is null: give it a handler."));
        errors.AddRange(declared.Routes.Where(r => r.Value is null).Select(r => $"service.Routes[\"{r.Key}\"] is null: give it a handler."));

        if (service.Events.Count > 0 && settings.SigningSecrets.Count == 0)
        {
            errors.Add(
                $"{serviceFile} declares events ({string.Join(", ", service.Events.Keys)}) but no signing secret is configured, so deliveries cannot be verified: run the app with 'herald link', or set {HeraldAppSettings.SigningSecretsKey} to the app's signing secret(s).");
        }

        if (errors.Count > 0)
        {
            throw new HeraldConfigurationException(errors.Count == 1
                ? errors[0]
                : $"The service does not match {serviceFile} ({errors.Count} problems):{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors));
        }

        var events = service.Events.Values.ToDictionary(
            d => d.HandlerId,
            d => new EventHandlerEntry(d, declared.Events[d.HandlerId], CreateLimiter(d.RateLimitPerReplica ?? service.RateLimitPerReplica)),
            StringComparer.Ordinal);
        var routes = service.Routes.Values.ToDictionary(
            d => d.Id,
            d => new RouteHandlerEntry(d, declared.Routes[d.Id], CreateLimiter(d.RateLimitPerReplica ?? service.RateLimitPerReplica)),
            StringComparer.Ordinal);
        return new ServiceDefinition(app, service, serviceFile, settings, events, routes);
    }

    /// <summary>
    /// The limiter for <c>rateLimitPerReplica</c>: <c>concurrent</c> requests at once (no queue) and <c>perMinute</c>
    /// in a fixed one-minute window (no queue); both when both are set.
    /// </summary>
    public static RateLimiter? CreateLimiter(RateLimit? limit)
    {
        var limiters = new List<RateLimiter>(2);
        if (limit?.Concurrent is { } concurrent)
        {
            limiters.Add(new ConcurrencyLimiter(new ConcurrencyLimiterOptions { PermitLimit = concurrent, QueueLimit = 0 }));
        }

        if (limit?.PerMinute is { } perMinute)
        {
            limiters.Add(new FixedWindowRateLimiter(new FixedWindowRateLimiterOptions
            {
                PermitLimit = perMinute,
                Window = TimeSpan.FromMinutes(1),
                QueueLimit = 0,
                AutoReplenishment = true,
            }));
        }

        return limiters.Count switch
        {
            0 => null,
            1 => limiters[0],
            _ => RateLimiter.CreateChained([.. limiters]),
        };
    }

    public void Dispose()
    {
        foreach (var entry in Events.Values)
        {
            entry.Limiter?.Dispose();
        }

        foreach (var entry in Routes.Values)
        {
            entry.Limiter?.Dispose();
        }
    }
}
