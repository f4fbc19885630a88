using Herald.Broker;
using Herald.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Cli.Hosting;

/// <summary>The Herald broker, on the SQLite store or a NATS cluster, running inside this process (for <c>up</c> and <c>demo</c>).</summary>
internal sealed class InProcessBroker : IAsyncDisposable
{
    /// <summary>The SQLite database's file name in the data folder.</summary>
    public const string DatabaseFile = "herald.db";

    private readonly WebApplication _app;
    private bool _stopped;

    private InProcessBroker(WebApplication app, Uri url, string dataDirectory)
    {
        _app = app;
        Url = url;
        DataDirectory = dataDirectory;
    }

    /// <summary>Where the broker listens (the bound address when port 0 was asked).</summary>
    public Uri Url { get; }

    /// <summary>The data folder.</summary>
    public string DataDirectory { get; }

    /// <summary>The admin token file.</summary>
    public string AdminTokenPath => Path.Combine(DataDirectory, BrokerTarget.AdminTokenFile);

    /// <summary>Starts the broker on <paramref name="url"/> with its data in <paramref name="dataDirectory"/> and default options.</summary>
    /// <param name="url">Where to listen, e.g. <c>http://127.0.0.1:8080</c>.</param>
    /// <param name="dataDirectory">The data folder (created when missing).</param>
    /// <param name="minimumLogLevel">The broker's log level on the console; <see cref="LogLevel.None"/> for no logs.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <param name="store">Where events are kept; the SQLite database in <paramref name="dataDirectory"/> when <c>null</c>.</param>
    public static Task<InProcessBroker> StartAsync(string url, string dataDirectory, LogLevel minimumLogLevel, CancellationToken cancellationToken, BrokerStore? store = null) =>
        StartAsync(new BrokerOptions { Url = url, DataDirectory = dataDirectory }, minimumLogLevel, cancellationToken, store);

    /// <summary>Starts the broker with <paramref name="options"/> (its URL and data folder among them).</summary>
    /// <param name="options">The broker's options; the data folder is created when missing.</param>
    /// <param name="minimumLogLevel">The broker's log level on the console; <see cref="LogLevel.None"/> for no logs.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <param name="store">Where events are kept; the SQLite database in the data folder when <c>null</c>.</param>
    /// <param name="otlp">Where to send traces and metrics; nowhere when <c>null</c>.</param>
    public static async Task<InProcessBroker> StartAsync(BrokerOptions options, LogLevel minimumLogLevel, CancellationToken cancellationToken, BrokerStore? store = null, OtlpExport? otlp = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        store ??= BrokerStore.Sqlite;
        if (options.Validate() is { } problem)
        {
            throw new CliException(problem);
        }

        var url = options.Url;
        var dataDirectory = options.DataDirectory;
        Directory.CreateDirectory(dataDirectory);

        WebApplication app;
        try
        {
            var builder = HeraldBroker.CreateBuilder(options, []);
            store.AddTo(builder.Services, dataDirectory);
            otlp?.AddTo(builder.Services);
            builder.Logging.ClearProviders();
            // A failed start is reported as one clear message below, not as the host's stack trace.
            builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
            if (minimumLogLevel != LogLevel.None)
            {
                builder.Logging.AddSimpleConsole(console => console.SingleLine = true);
                builder.Logging.SetMinimumLevel(minimumLogLevel);
                builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
                // A broker that shows warnings shows its audit lines too (admin actions are few); the demo logs errors only.
                if (minimumLogLevel == LogLevel.Warning)
                {
                    builder.Logging.AddFilter(HeraldBroker.AuditLogCategory, LogLevel.Information);
                }
            }

            app = HeraldBroker.Build(builder);
        }
        catch (NotImplementedException e)
        {
            throw new CliException("This build of Herald has no broker yet (its entry point is not implemented).", ExitCodes.Unavailable, e);
        }

        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new CliException($"The broker cannot listen on {url}: {e.Message} Is another broker running? Pick another port with --port.", ExitCodes.Unavailable, e);
        }
        catch (StoreUnavailableException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new CliException($"The broker cannot open its store. {e.Message} Start the store (or check --store) and run 'herald up' again.", ExitCodes.Unavailable, e);
        }
        catch (BrokerKeysMismatchException e)
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw new CliException(e.Message, ExitCodes.UserError, e);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        var bound = app.Services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        var actual = bound is not null && Uri.TryCreate(bound, UriKind.Absolute, out var boundUri) && boundUri.Port != 0 ? boundUri : new Uri(url);
        return new InProcessBroker(app, new Uri(actual.GetLeftPart(UriPartial.Authority)), dataDirectory);
    }

    /// <summary>Waits for the admin token file the broker writes at its first start.</summary>
    public async Task<string> ReadAdminTokenAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (File.Exists(AdminTokenPath))
            {
                var token = (await File.ReadAllTextAsync(AdminTokenPath, cancellationToken).ConfigureAwait(false)).Trim();
                if (token.Length > 0)
                {
                    return token;
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new CliException($"The broker did not write its admin token to {AdminTokenPath} within 30 s.", ExitCodes.Unavailable);
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the broker gracefully.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _app.StopAsync(grace.Token).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
