using System.Net;
using System.Net.Sockets;

namespace Herald.Storage.Nats.Tests.Fixtures;

/// <summary>Free TCP ports on 127.0.0.1, chosen by the kernel.</summary>
public static class LoopbackPorts
{
    /// <summary>
    /// Binds <paramref name="count"/> listeners on 127.0.0.1:0 at the same time (so the ports differ), reads their
    /// ports and releases them. The ports are fixed up front because a cluster's route list names every node.
    /// </summary>
    public static IReadOnlyList<int> Pick(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(listener);
                listener.Start();
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }
}
