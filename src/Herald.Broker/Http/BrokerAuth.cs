using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Herald.Broker.Registry;
using Herald.Broker.Security;
using Herald.Protocol;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Herald.Broker.Http;

/// <summary>Who made a request: the admin, or a linked app.</summary>
internal sealed record Caller(bool IsAdmin, LinkedApp? App)
{
    public static readonly Caller Admin = new(true, null);

    /// <summary>Whether the caller may act in (account, workspace).</summary>
    public bool MayAccess(string account, string workspace) =>
        IsAdmin || (App is not null && string.Equals(App.Account, account, StringComparison.Ordinal) && string.Equals(App.Workspace, workspace, StringComparison.Ordinal));
}

/// <summary>
/// The broker's authentication and authorization, on ASP.NET Core's own: one scheme reads <c>Authorization: Bearer</c>
/// (the admin token or a linked app's token), and three policies say who may call an endpoint. Every endpoint needs a
/// known token unless it is mapped with <c>AllowAnonymous</c> (the fallback policy), so an endpoint mapped without a
/// policy fails closed. Every refusal is counted (<c>herald.auth.refused</c>, by reason) and logged with the request's
/// method, path and address, never with the token.
/// </summary>
internal static class BrokerAuth
{
    public const string SchemeName = "HeraldToken";

    /// <summary>The admin token only.</summary>
    public const string AdminPolicy = "herald-admin";

    /// <summary>The admin, or an app linked in the route's <c>{account}/{workspace}</c>.</summary>
    public const string WorkspacePolicy = "herald-workspace";

    /// <summary>An app linked in the route's <c>{account}/{workspace}</c>: the call acts as that app (it publishes as its sender).</summary>
    public const string WorkspaceAppPolicy = "herald-workspace-app";

    public static IServiceCollection AddBrokerAuth(this IServiceCollection services)
    {
        services.AddAuthentication(SchemeName).AddScheme<AuthenticationSchemeOptions, TokenAuthenticationHandler>(SchemeName, null);
        services.AddAuthorizationBuilder()
            // The policies name no scheme: the one scheme is the default, so authorization reuses the result the
            // authentication middleware already has instead of authenticating again and merging a new principal.
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            // Each policy is one requirement that checks itself (ASP.NET Core's pass-through handler runs it): it needs a
            // known caller, so a request without one is challenged (401) as RequireAuthenticatedUser would.
            .AddPolicy(AdminPolicy, policy => policy.AddRequirements(CallerRequirement.Admin))
            .AddPolicy(WorkspacePolicy, policy => policy.AddRequirements(CallerRequirement.Workspace))
            .AddPolicy(WorkspaceAppPolicy, policy => policy.AddRequirements(CallerRequirement.WorkspaceApp));
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, RefusalWriter>();
        return services;
    }

    /// <summary>The caller the scheme found; only on an endpoint behind a policy.</summary>
    public static Caller Caller(this HttpContext http) =>
        (http.User.Identity as CallerIdentity)?.Caller ?? throw new InvalidOperationException("No caller: the endpoint is not behind one of BrokerAuth's policies.");

    /// <summary>
    /// Authorizes a request against <paramref name="policy"/> from inside an endpoint (the router: only its non-public
    /// routes need a token), answering 401 or 403 as the middleware would; <c>true</c> when it may go on.
    /// </summary>
    public static async Task<bool> AuthorizeAsync(HttpContext http, string policy)
    {
        var services = http.RequestServices;
        var requirements = await services.GetRequiredService<IAuthorizationPolicyProvider>().GetPolicyAsync(policy).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"No authorization policy '{policy}'.");
        if (http.User.Identity is not CallerIdentity)
        {
            await http.ChallengeAsync(SchemeName).ConfigureAwait(false);
            return false;
        }

        var result = await services.GetRequiredService<IAuthorizationService>().AuthorizeAsync(http.User, http, requirements).ConfigureAwait(false);
        if (result.Succeeded)
        {
            return true;
        }

        await RefusalWriter.ForbidAsync(http, result.Failure).ConfigureAwait(false);
        return false;
    }

    /// <summary>Counts and logs a refused credential; <paramref name="detail"/> <c>null</c> logs it at Debug only (no token at all).</summary>
    public static void Refused(HttpContext http, string reason, string? detail)
    {
        BrokerTelemetry.AuthRefused.Add(1, new KeyValuePair<string, object?>("herald.auth.reason", reason));
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(BrokerAuth).FullName!);
        var remote = Remote(http);
        if (detail is null)
        {
            Log.CredentialMissing(logger, http.Request.Method, http.Request.Path, remote);
        }
        else
        {
            Log.CredentialRefused(logger, http.Request.Method, http.Request.Path, remote, detail);
        }
    }

    /// <summary>Who sent a request, as far as the connection tells.</summary>
    public static string Remote(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "an unknown address";

    /// <summary>The identity of a known token; it carries the <see cref="Http.Caller"/>.</summary>
    private sealed class CallerIdentity : ClaimsIdentity
    {
        public CallerIdentity(Caller caller)
            : base(caller.App is { } app
                ? [new Claim(ClaimTypes.Name, app.Sender), new Claim("herald:account", app.Account), new Claim("herald:workspace", app.Workspace)]
                : [new Claim(ClaimTypes.Name, "admin"), new Claim(ClaimTypes.Role, "admin")], SchemeName)
        {
            Caller = caller;
        }

        public Caller Caller { get; }
    }

    /// <summary>Reads the bearer token: the admin's, or a linked app's (by its hash); a 401 problem when it is missing or unknown.</summary>
    private sealed class TokenAuthenticationHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder, Credentials credentials, AppRegistry registry)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        private const string Unknown = "unknown";

        // A caller's principal is made once: each link's app is a new object, so a relinked app gets a new one and the
        // old ones go with the registry snapshots that held them.
        private static readonly ClaimsPrincipal AdminPrincipal = new(new CallerIdentity(Http.Caller.Admin));
        private static readonly ConditionalWeakTable<LinkedApp, ClaimsPrincipal> AppPrincipals = [];

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            var header = Request.Headers.Authorization.ToString();
            if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || header.Length <= 7)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }

            var check = credentials.Check(header.AsSpan(7).Trim());
            var principal = check.IsAdmin ? AdminPrincipal
                : registry.Current.FindByTokenHash(check.AppTokenHash!) is { } app ? AppPrincipals.GetValue(app, static a => new ClaimsPrincipal(new CallerIdentity(new Caller(false, a))))
                : null;
            return Task.FromResult(principal is null
                ? AuthenticateResult.Fail(Unknown)
                : AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName)));
        }

        protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
        {
            var result = await HandleAuthenticateOnceSafeAsync().ConfigureAwait(false);
            Response.Headers.WWWAuthenticate = "Bearer";
            if (result.Failure is not null)
            {
                Refused(Context, Unknown, "the bearer token is not the admin token nor a linked app's");
                await Problems.Unauthorized("The bearer token is not valid: it is unknown, or belonged to an app that was relinked or unlinked since. Relink the app to get a new token.").ExecuteAsync(Context).ConfigureAwait(false);
                return;
            }

            Refused(Context, "missing", null);
            await Problems.Unauthorized("This call needs 'Authorization: Bearer <token>': an app token (given to the app by 'herald link') or the admin token (in the broker's data folder, admin.token).").ExecuteAsync(Context).ConfigureAwait(false);
        }
    }

    /// <summary>Who a policy lets in, checked against the route's <c>{account}/{workspace}</c> when it has them.</summary>
    private sealed class CallerRequirement : AuthorizationHandler<CallerRequirement>, IAuthorizationRequirement
    {
        public static readonly CallerRequirement Admin = new(admin: true, apps: false);
        public static readonly CallerRequirement Workspace = new(admin: true, apps: true);
        public static readonly CallerRequirement WorkspaceApp = new(admin: false, apps: true);

        private CallerRequirement(bool admin, bool apps)
        {
            AdminMay = admin;
            AppsMay = apps;
        }

        public bool AdminMay { get; }

        public bool AppsMay { get; }

        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, CallerRequirement requirement)
        {
            if (context.User.Identity is not CallerIdentity { Caller: var caller } || context.Resource is not HttpContext http)
            {
                context.Fail();
                return Task.CompletedTask;
            }

            if (caller.App is not { } app)
            {
                if (requirement.AdminMay)
                {
                    context.Succeed(requirement);
                }
                else
                {
                    context.Fail(new Refusal(this, $"This call acts as an app, so it needs that app's token; the admin token cannot make it. The admin publishes with POST {HeraldPaths.AdminPrefix}/{{account}}/{{workspace}}/events/{{key}}?sender=vendor.name (or 'herald send').", "admin_as_app", "the admin token used where an app token is needed"));
                }

                return Task.CompletedTask;
            }

            if (!requirement.AppsMay)
            {
                context.Fail(new Refusal(this, "The admin API needs the admin token; an app token cannot call it.", "not_admin", $"the admin API called with the app token of {app.Sender} in {app.Account}/{app.Workspace}"));
                return Task.CompletedTask;
            }

            var values = http.Request.RouteValues;
            var account = values["account"] as string;
            var workspace = values["workspace"] as string;
            if (account is not null && workspace is not null && caller.MayAccess(account, workspace))
            {
                context.Succeed(requirement);
                return Task.CompletedTask;
            }

            context.Fail(new Refusal(this,
                $"This token belongs to {app.Sender} in {app.Account}/{app.Workspace}; it cannot act in {account}/{workspace}. Apps act only in their own workspace: use the token of an app linked in {account}/{workspace}, or the admin token.",
                "other_workspace", $"the token of {app.Sender} in {app.Account}/{app.Workspace} used for {account}/{workspace}"));
            return Task.CompletedTask;
        }
    }

    /// <summary>A refusal: the 403's detail, the counted reason and what the log line says.</summary>
    private sealed class Refusal(IAuthorizationHandler handler, string detail, string reason, string logDetail) : AuthorizationFailureReason(handler, detail)
    {
        public string Reason { get; } = reason;

        public string LogDetail { get; } = logDetail;
    }

    /// <summary>Writes a policy's 403 as a problem whose detail says why, and counts it; a 401 is the scheme's challenge.</summary>
    private sealed class RefusalWriter : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult) =>
            authorizeResult.Forbidden ? ForbidAsync(context, authorizeResult.AuthorizationFailure) : _default.HandleAsync(next, context, policy, authorizeResult);

        public static Task ForbidAsync(HttpContext http, AuthorizationFailure? failure)
        {
            var refusal = failure?.FailureReasons.OfType<Refusal>().FirstOrDefault();
            Refused(http, refusal?.Reason ?? "forbidden", refusal?.LogDetail ?? "a policy refused the caller");
            return Problems.Forbidden(refusal?.Message ?? "This token may not make this call.").ExecuteAsync(http);
        }
    }
}
