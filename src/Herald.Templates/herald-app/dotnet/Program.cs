using Herald.Sdk;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddHeraldConsole();

builder.AddHeraldService(service =>
{
    // Declared in service.json under "events": every "hello" event published in this workspace.
    service.Events["onHello"] = context =>
    {
        context.Logger.LogInformation("Handled {Key} from {Sender} (attempt {Attempt}): {Body}", context.Key, context.Sender, context.Attempt, context.Body.GetRawText());
        return Task.CompletedTask;
    };

    // Declared in service.json under "routes": GET /{account}/{workspace}/_v/herald-app/hello through the broker.
    service.Routes["hello"] = async context =>
    {
        context.HttpContext.Response.ContentType = "text/plain";
        await context.HttpContext.Response.WriteAsync($"hello from herald-app in {context.Account}/{context.Workspace}", context.CancellationToken);
    };
});

var app = builder.Build();
app.MapHeraldService();
await app.RunAsync();
