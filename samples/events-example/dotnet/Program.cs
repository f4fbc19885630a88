using EventsExample;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddHeraldConsole();

builder.Services.AddSingleton<ContextCache>();
builder.Services.AddHostedService<EventFirer>();
builder.AddHeraldService(service =>
{
    service.Routes["hcheck"] = HealthCheck.Handle;
});

var app = builder.Build();
app.MapHeraldService();
await app.RunAsync();
