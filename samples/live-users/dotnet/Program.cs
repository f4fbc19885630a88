using Herald.Delivery;
using LiveUsers.Events;

const int ThreeSecondsMs = 3 * 1000;
const int Concurrency = 10;

var builder = WebApplication.CreateBuilder(args);
builder.Logging.AddHeraldConsole();

builder.AddHeraldService(service =>
{
    service.Clients.Default = new ClientOptions
    {
        Retries = 2,
        Timeout = 10000,
    };
    service.Clients.Options["events"] = new ClientOptions
    {
        ExponentialTimeoutCoefficient = 2,
        ExponentialBackoffCoefficient = 2,
        InitialBackoffDelay = 50,
        Retries = 1,
        Timeout = ThreeSecondsMs,
        Concurrency = Concurrency,
    };
    service.Events["liveUsersUpdate"] = LiveUsersUpdate.UpdateLiveUsers;
});

var app = builder.Build();
app.MapHeraldService();
await app.RunAsync();
