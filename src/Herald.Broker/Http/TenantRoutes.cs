using Herald.Protocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Herald.Broker.Http;

/// <summary>
/// Every route with <c>{account}/{workspace}</c> names a valid tenant, checked once before authentication: a bad name
/// is a 400 that says which and why, whatever the token, and no endpoint sees it.
/// </summary>
internal static class TenantRoutes
{
    public static IApplicationBuilder UseTenantRouteValidation(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var values = http.Request.RouteValues;
        if (values.TryGetValue("account", out var account) && values.TryGetValue("workspace", out var workspace)
            && Error(account as string ?? "", workspace as string ?? "") is { } error)
        {
            await error.ExecuteAsync(http).ConfigureAwait(false);
            return;
        }

        await next(http).ConfigureAwait(false);
    });

    /// <summary>A 400 naming the account or workspace that is not valid; <c>null</c> when both are.</summary>
    public static IResult? Error(string account, string workspace)
    {
        if (!Names.IsAccount(account))
        {
            return Problems.BadRequest($"The account '{Trim(account)}' is not valid: it must be {Names.TenantRule}.");
        }

        return Names.IsWorkspace(workspace) ? null : Problems.BadRequest($"The workspace '{Trim(workspace)}' is not valid: it must be {Names.TenantRule}.");
    }

    private static string Trim(string value) => value.Length <= 70 ? value : value[..67] + "...";
}
