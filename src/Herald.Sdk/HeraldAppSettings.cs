using Microsoft.Extensions.Configuration;

namespace Herald.Sdk;

/// <summary>
/// Where the app runs and how it reaches the broker, read from configuration (environment variables set by
/// <c>herald link</c> when it starts the app).
/// </summary>
public sealed class HeraldAppSettings
{
    /// <summary>The broker's base URL, e.g. <c>http://127.0.0.1:8080</c>.</summary>
    public const string BrokerUrlKey = "HERALD_BROKER_URL";

    /// <summary>The app's bearer token for the broker.</summary>
    public const string AppTokenKey = "HERALD_APP_TOKEN";

    /// <summary>Comma-separated <c>whsec_</c> signing secrets; a delivery is valid under any of them.</summary>
    public const string SigningSecretsKey = "HERALD_SIGNING_SECRETS";

    /// <summary>The account the app is linked in.</summary>
    public const string AccountKey = "HERALD_ACCOUNT";

    /// <summary>The workspace the app is linked in.</summary>
    public const string WorkspaceKey = "HERALD_WORKSPACE";

    /// <summary>The app folder holding <c>manifest.json</c> and <c>dotnet/service.json</c>.</summary>
    public const string AppRootKey = "HERALD_APP_ROOT";

    /// <summary>The broker's base URL. <value>null: the Events client cannot be used</value></summary>
    public Uri? BrokerUrl { get; init; }

    /// <summary>The app's bearer token. <value>null</value></summary>
    public string? AppToken { get; init; }

    /// <summary>The signing secrets deliveries are checked against. <value>empty</value></summary>
    public IReadOnlyList<string> SigningSecrets { get; init; } = [];

    /// <summary>The account the app is linked in. <value>null</value></summary>
    public string? Account { get; init; }

    /// <summary>The workspace the app is linked in. <value>null</value></summary>
    public string? Workspace { get; init; }

    /// <summary>The app folder. <value>null: the manifests are read from the app's output folder</value></summary>
    public string? AppRoot { get; init; }

    /// <summary>Reads the settings from <paramref name="configuration"/>.</summary>
    /// <exception cref="HeraldConfigurationException">A value is malformed.</exception>
    public static HeraldAppSettings FromConfiguration(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        Uri? brokerUrl = null;
        var rawUrl = Value(configuration, BrokerUrlKey);
        if (rawUrl is not null && (!Uri.TryCreate(rawUrl, UriKind.Absolute, out brokerUrl) || brokerUrl.Scheme is not ("http" or "https")))
        {
            throw new HeraldConfigurationException(
                $"{BrokerUrlKey} must be an absolute http(s) URL such as http://127.0.0.1:8080, but is '{rawUrl}'. Run the app with 'herald link', or fix the variable.");
        }

        var secrets = (Value(configuration, SigningSecretsKey) ?? string.Empty)
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var secret in secrets)
        {
            if (!IsSecret(secret))
            {
                throw new HeraldConfigurationException(
                    $"{SigningSecretsKey} holds a value that is not a signing secret ('whsec_' followed by base64). Copy the secrets 'herald link' prints, or run the app with 'herald link'.");
            }
        }

        return new HeraldAppSettings
        {
            BrokerUrl = brokerUrl,
            AppToken = Value(configuration, AppTokenKey),
            SigningSecrets = secrets,
            Account = Value(configuration, AccountKey),
            Workspace = Value(configuration, WorkspaceKey),
            AppRoot = Value(configuration, AppRootKey),
        };
    }

    private static string? Value(IConfiguration configuration, string key)
    {
        var value = configuration[key];
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static bool IsSecret(string secret)
    {
        if (!secret.StartsWith(Protocol.WebhookSignature.SecretPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        var encoded = secret[Protocol.WebhookSignature.SecretPrefix.Length..];
        var buffer = new byte[encoded.Length];
        return encoded.Length > 0 && Convert.TryFromBase64String(encoded, buffer, out var written) && written >= 16;
    }
}
