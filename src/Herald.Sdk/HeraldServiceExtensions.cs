using Herald.Protocol;
using Herald.Sdk;
using Herald.Sdk.Internal;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers and maps a Herald service (VTEX IO's <c>new Service({clients, events, routes})</c>).</summary>
public static class HeraldServiceExtensions
{
    /// <summary>
    /// Declares the app's service: its clients' options, event handlers and route handlers. Reads the configuration
    /// (<c>HERALD_*</c>, see <see cref="HeraldAppSettings"/>) and the app's <c>manifest.json</c> and
    /// <c>dotnet/service.json</c>, and checks that code and manifests agree.
    /// </summary>
    /// <exception cref="HeraldConfigurationException">The code and the manifests disagree, or the configuration is incomplete.</exception>
    /// <exception cref="Herald.Manifests.ManifestException">A manifest is invalid.</exception>
    public static IHostApplicationBuilder AddHeraldService(this IHostApplicationBuilder builder, Action<HeraldService> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);

        var service = new HeraldService();
        configure(service);
        var settings = HeraldAppSettings.FromConfiguration(builder.Configuration);
        var (app, manifest, serviceFile) = ManifestLoader.Load(settings);
        var definition = ServiceDefinition.Create(service, app, manifest, serviceFile, settings);

        var services = builder.Services;
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(settings);
        services.AddSingleton(app);
        services.AddSingleton(manifest);
        services.AddSingleton(_ => definition);

        var names = new HashSet<string>(service.Clients.Options.Keys, StringComparer.Ordinal)
        {
            HeraldClientsOptions.DefaultClientName,
            HeraldClientsOptions.EventsClientName,
        };
        foreach (var name in names)
        {
            var resolved = service.Clients.Resolve(name);
            services.AddHttpClient(ClientRegistry.HttpClientName(name), client => client.Timeout = Timeout.InfiniteTimeSpan)
                .AddResilienceHandler("herald-" + name, (pipeline, context) =>
                    ClientPipeline.Configure(pipeline, resolved, context.ServiceProvider.GetRequiredService<TimeProvider>()));
        }

        services.AddSingleton(sp => new ClientRegistry(sp.GetRequiredService<IHttpClientFactory>(), names));
        services.AddSingleton(sp => new EventsClient(
            sp.GetRequiredService<ClientRegistry>(),
            settings,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("Herald.Sdk.EventsClient")));
        services.AddSingleton(sp => new HeraldClients(sp.GetRequiredService<ClientRegistry>(), sp.GetRequiredService<EventsClient>()));
        services.AddSingleton<EventDispatcher>();
        services.AddSingleton<ReplayGuard>();
        return builder;
    }

    /// <summary>
    /// Serves the service: <c>POST /{account}/{workspace}/_events</c> for deliveries, the routes of
    /// <c>service.json</c> (dispatched on <c>x-colossus-route-id</c>) and <c>GET /_herald/ready</c>.
    /// </summary>
    public static WebApplication MapHeraldService(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var definition = app.Services.GetService<ServiceDefinition>() ?? throw new InvalidOperationException(
            "MapHeraldService needs the service declared first: call builder.AddHeraldService(service => ...) before builder.Build().");

        app.UseMiddleware<RouteDispatcher>();
        var dispatcher = app.Services.GetRequiredService<EventDispatcher>();
        app.MapPost($"/{{account}}/{{workspace}}/{HeraldPaths.EventsEndpointSegment}", dispatcher.HandleAsync);
        app.MapGet(HeraldSdk.ReadyPath, () => Results.Text("ok"));

        var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Herald.Sdk");
        app.Lifetime.ApplicationStarted.Register(() => Log.ServiceReady(
            logger,
            definition.App.AppId,
            definition.Settings.Account ?? "(no account)",
            definition.Settings.Workspace ?? "(no workspace)",
            string.Join(", ", definition.Events.Keys),
            string.Join(", ", definition.Routes.Keys)));
        return app;
    }
}
