using System.Net.Sockets;

namespace Herald.Cli.Tests;

/// <summary>Whether something listens at an endpoint: used to check that an app process is up, or gone.</summary>
internal static class TcpProbe
{
    public static async Task<bool> AnswersAsync(string endpoint)
    {
        using var tcp = new TcpClient();
        try
        {
            var uri = new Uri(endpoint);
            await tcp.ConnectAsync(uri.Host, uri.Port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
