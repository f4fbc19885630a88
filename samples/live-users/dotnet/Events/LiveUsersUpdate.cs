using Herald.Sdk;

namespace LiveUsers.Events;

/// <summary>The <c>liveUsersUpdate</c> handler of the tutorial.</summary>
public static class LiveUsersUpdate
{
    public static Task UpdateLiveUsers(EventContext context)
    {
        Console.WriteLine("EVENT HANDLER: received event");
        return Task.CompletedTask;
    }
}
