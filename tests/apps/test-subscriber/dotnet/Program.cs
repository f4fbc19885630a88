using TestSubscriber;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddHeraldConsole();

builder.Services.AddSingleton(sp => new Recorder(
    sp.GetRequiredService<IConfiguration>()[Recorder.RecordFileKey],
    sp.GetRequiredService<TimeProvider>()));
builder.AddHeraldService(service =>
{
    service.Events["anyKey"] = Handlers.HandleEvent;
    service.Events["fromExample"] = Handlers.HandleEvent;
    service.Routes["fire"] = Handlers.Fire;
    service.Routes["fix"] = Handlers.Fix;
    service.Routes["received"] = Handlers.Received;
});

var app = builder.Build();
app.MapHeraldService();
await app.RunAsync();
