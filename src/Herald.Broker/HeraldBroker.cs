using System.Net;
using Herald.Broker.Admin;
using Herald.Broker.Dispatching;
using Herald.Broker.Feeds;
using Herald.Broker.Http;
using Herald.Broker.Internal;
using Herald.Broker.Publishing;
using Herald.Broker.Registry;
using Herald.Broker.Security;
using Herald.Storage;
using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Herald.Telemetry;
using OpenTelemetry.Metrics;

namespace Herald.Broker;

/// <summary>Stands in for a background job the store has no part for (pruning, the feed relay).</summary>
internal sealed class NothingToRun : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Builds a broker web application. A store is added by the caller (e.g. <c>AddHeraldSqliteStore</c>).</summary>
public static class HeraldBroker
{
    /// <summary>
    /// The log category of the audit lines, one at Information for each admin action (link, unlink, redrive, purge,
    /// replay) with what it did and the caller's address. <c>herald up</c> shows them even when it logs only warnings.
    /// </summary>
    public const string AuditLogCategory = "Herald.Audit";

    /// <summary>The Prometheus scrape endpoint (text exposition format), which needs the admin token.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>The dashboard's page. The page itself holds no data; everything it shows needs the admin token.</summary>
    public const string DashboardPath = "/_herald/ui";

    /// <summary>A builder with the broker's services and options; add a store, then call <see cref="Build"/>.</summary>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public static WebApplicationBuilder CreateBuilder(BrokerOptions options, string[]? args = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } problems)
        {
            throw new ArgumentException(problems, nameof(options));
        }

        // The content root is the broker's own folder, and configuration files are not watched: watching the working
        // folder (often one holding the data folder) costs a wake-up for every write to the store's files.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [.. args ?? [], "--hostBuilder:reloadConfigOnChange=false"],
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseUrls(options.Url);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = Math.Max(options.MaxBodyBytes * 2, 64L * 1024 * 1024));
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "HH:mm:ss ";
        });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Services.AddHeraldBroker(options);
        return builder;
    }

    /// <summary>Registers the broker's services (without a store).</summary>
    public static IServiceCollection AddHeraldBroker(this IServiceCollection services, BrokerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(_ => Credentials.LoadOrCreate(options.DataDirectory));
        services.AddSingleton<AppRegistry>();
        services.AddSingleton<Broadcast<HeraldEvent>>();
        services.AddSingleton<Broadcast<ActivityInfo>>();
        services.AddSingleton<DeliveryClient>();
        services.AddSingleton<OutcomeClassifier>();
        services.AddSingleton<Dispatcher>();
        services.AddSingleton<PublishService>();
        services.AddSingleton<PublishRateLimiter>();
        services.AddBrokerAuth();
        services.AddHostedService<BrokerStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<Dispatcher>());
        services.AddHostedService<RegistryWatcher>();
        services.AddHostedService<BacklogGauges>();
        // The metrics are always kept, for the Prometheus endpoint; a host may add exporters of its own.
        services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddHeraldInstrumentation().AddPrometheusExporter());
        services.Configure<HostOptions>(host => host.ShutdownTimeout = options.ShutdownGrace + TimeSpan.FromSeconds(20));
        services.AddSingleton<IHostedService>(sp => sp.GetService<IRetentionStore>() is { } retention
            ? ActivatorUtilities.CreateInstance<Pruner>(sp, retention)
            : new NothingToRun());
        services.AddSingleton<IHostedService>(sp => sp.GetService<IFeedRelay>() is { } relay
            ? ActivatorUtilities.CreateInstance<FeedRelay>(sp, relay)
            : new NothingToRun());
        services.AddHealthChecks()
            .AddCheck<StoreHealthCheck>("store", HealthStatus.Unhealthy, [BrokerHealth.Ready], BrokerHealth.CheckTimeout)
            .AddCheck<DeliveryHealthCheck>("delivery", HealthStatus.Degraded, [BrokerHealth.Ready], BrokerHealth.CheckTimeout);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
            context.ProblemDetails.Detail ??= $"{context.HttpContext.Request.Method} {context.HttpContext.Request.Path} is not a Herald endpoint (HTTP {context.ProblemDetails.Status}). Check the method and path against the protocol: publish with PUT /{{account}}/{{workspace}}/events/{{key}}, admin calls under {HeraldPaths.AdminPrefix}.");
        // Neither client logs per request: a delivery's outcome is recorded by the dispatcher, a routed call by the router.
        services.AddHttpClient(DeliveryClient.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                MaxConnectionsPerServer = 256,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
                // The attempt's span puts the trace context on the delivery itself (BrokerTelemetry.Inject).
                ActivityHeadersPropagator = null,
            });
        services.AddRouter();
        return services;
    }

    /// <summary>Builds the app and maps every broker endpoint.</summary>
    public static WebApplication Build(WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        if (!builder.Services.Any(s => s.ServiceType == typeof(IEventStore)))
        {
            throw new InvalidOperationException("The broker has no store: add one before Build, e.g. builder.Services.AddHeraldSqliteStore(path).");
        }

        var app = builder.Build();
        app.UseStatusCodePages();
        MapHerald(app);
        return app;
    }

    /// <summary>Maps the broker's endpoints: health, publish, tail and activity streams, admin API and the router.</summary>
    public static void MapHerald(WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseTenantRouteValidation();
        app.UseAuthentication();
        app.UseAuthorization();
        // Live: the process serves requests. Ready: the store answers (else 503); a stopped worker is Degraded (200).
        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/readyz", new HealthCheckOptions { Predicate = check => check.Tags.Contains(BrokerHealth.Ready), ResponseWriter = BrokerHealth.WriteAsync }).AllowAnonymous();
        // Prometheus scrapes with the admin token (bearer_token_file): the metrics name every tenant's subscriptions.
        app.MapPrometheusScrapingEndpoint(MetricsPath).RequireAuthorization(BrokerAuth.AdminPolicy);
        PublishEndpoints.Map(app);
        StreamEndpoints.Map(app);
        AdminEndpoints.Map(app);
        DashboardEndpoints.Map(app);
        RouterEndpoint.Map(app);
    }
}
