using Herald.Broker.Registry;
using Herald.Broker.Security;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Http;

/// <summary>Who made a request: the admin, a linked app, or nobody known.</summary>
internal sealed record Caller(bool IsAdmin, LinkedApp? App)
{
    public static readonly Caller Admin = new(true, null);

    /// <summary>Whether the caller may act in (account, workspace).</summary>
    public bool MayAccess(string account, string workspace) =>
        IsAdmin || (App is not null && string.Equals(App.Account, account, StringComparison.Ordinal) && string.Equals(App.Workspace, workspace, StringComparison.Ordinal));
}

/// <summary>Reads <c>Authorization: Bearer</c> and finds the caller.</summary>
internal static class BrokerAuth
{
    /// <summary>The caller, or an error to answer with (401) when there is no token or it is unknown.</summary>
    public static (Caller? Caller, IResult? Error) Authenticate(HttpContext http, Credentials credentials, AppRegistry registry)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
        {
            return (null, Problems.Unauthorized("This call needs 'Authorization: Bearer <token>': an app token (given to the app by 'herald link') or the admin token (in the broker's data folder, admin.token)."));
        }

        var token = header[7..].Trim();
        if (credentials.IsAdmin(token))
        {
            return (Caller.Admin, null);
        }

        var app = registry.Current.FindByTokenHash(Credentials.Hash(token));
        return app is null
            ? (null, Problems.Unauthorized("The bearer token is not valid: it is unknown, or belonged to an app that was relinked or unlinked since. Relink the app to get a new token."))
            : (new Caller(false, app), null);
    }

    /// <summary>Like <see cref="Authenticate"/>, and the caller must be the admin.</summary>
    public static IResult? RequireAdmin(HttpContext http, Credentials credentials, AppRegistry registry)
    {
        var (caller, error) = Authenticate(http, credentials, registry);
        if (error is not null)
        {
            return error;
        }

        return caller!.IsAdmin ? null : Problems.Forbidden("The admin API needs the admin token; an app token cannot call it.");
    }
}
