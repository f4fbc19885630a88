using Herald.Broker.Registry;
using Herald.Broker.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Herald.Broker.Http;

/// <summary>Who made a request: the admin, a linked app, or nobody known.</summary>
internal sealed record Caller(bool IsAdmin, LinkedApp? App)
{
    public static readonly Caller Admin = new(true, null);

    /// <summary>Whether the caller may act in (account, workspace).</summary>
    public bool MayAccess(string account, string workspace) =>
        IsAdmin || (App is not null && string.Equals(App.Account, account, StringComparison.Ordinal) && string.Equals(App.Workspace, workspace, StringComparison.Ordinal));
}

/// <summary>
/// Reads <c>Authorization: Bearer</c> and finds the caller. Every refusal is counted (<c>herald.auth.refused</c>, by
/// reason) and logged with the request's method, path and address, never with the token.
/// </summary>
internal static class BrokerAuth
{
    /// <summary>The caller, or an error to answer with (401) when there is no token or it is unknown.</summary>
    public static (Caller? Caller, IResult? Error) Authenticate(HttpContext http, Credentials credentials, AppRegistry registry)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            Refused(http, "missing", null);
            return (null, Problems.Unauthorized("This call needs 'Authorization: Bearer <token>': an app token (given to the app by 'herald link') or the admin token (in the broker's data folder, admin.token)."));
        }

        var token = header[7..].Trim();
        if (credentials.IsAdmin(token))
        {
            return (Caller.Admin, null);
        }

        var app = registry.Current.FindByTokenHash(Credentials.Hash(token));
        if (app is null)
        {
            Refused(http, "unknown", "the bearer token is not the admin token nor a linked app's");
            return (null, Problems.Unauthorized("The bearer token is not valid: it is unknown, or belonged to an app that was relinked or unlinked since. Relink the app to get a new token."));
        }

        return (new Caller(false, app), null);
    }

    /// <summary>Like <see cref="Authenticate"/>, and the caller must be the admin.</summary>
    public static IResult? RequireAdmin(HttpContext http, Credentials credentials, AppRegistry registry)
    {
        var (caller, error) = Authenticate(http, credentials, registry);
        if (error is not null)
        {
            return error;
        }

        if (caller!.IsAdmin)
        {
            return null;
        }

        Refused(http, "not_admin", $"the admin API called with the app token of {caller.App!.Sender} in {caller.App.Account}/{caller.App.Workspace}");
        return Problems.Forbidden("The admin API needs the admin token; an app token cannot call it.");
    }

    /// <summary>
    /// A 403 with <paramref name="detail"/> when <paramref name="caller"/> may not act in (account, workspace), counted
    /// and logged as a refusal; <c>null</c> when it may.
    /// </summary>
    public static IResult? RequireWorkspace(HttpContext http, Caller caller, string account, string workspace, string detail)
    {
        if (caller.MayAccess(account, workspace))
        {
            return null;
        }

        Refused(http, "other_workspace", $"the token of {caller.App?.Sender} in {caller.App?.Account}/{caller.App?.Workspace} used for {account}/{workspace}");
        return Problems.Forbidden(detail);
    }

    /// <summary>Counts and logs a refused credential; <paramref name="detail"/> <c>null</c> logs it at Debug only (no token at all).</summary>
    public static void Refused(HttpContext http, string reason, string? detail)
    {
        BrokerTelemetry.AuthRefused.Add(1, new KeyValuePair<string, object?>("herald.auth.reason", reason));
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BrokerAuth).FullName!);
        var remote = AdminEndpoints.Remote(http);
        if (detail is null)
        {
            Log.CredentialMissing(logger, http.Request.Method, http.Request.Path, remote);
        }
        else
        {
            Log.CredentialRefused(logger, http.Request.Method, http.Request.Path, remote, detail);
        }
    }
}
