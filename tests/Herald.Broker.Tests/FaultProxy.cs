using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Herald.Broker.Tests;

/// <summary>What the <see cref="FaultProxy"/> does to one request.</summary>
public enum FaultKind
{
    /// <summary>Forward the request and relay the whole response.</summary>
    Pass,

    /// <summary>Hold the request for <see cref="Fault.Delay"/>, then forward it (unless the client left meanwhile).</summary>
    Delay,

    /// <summary>Read the request, then close the client connection gracefully (FIN) without answering.</summary>
    Cut,

    /// <summary>Read the request, then abort the client connection (RST) without answering.</summary>
    Reset,

    /// <summary>Forward the request (the app handles it), relay half of the response, then close gracefully (FIN).</summary>
    CutMidResponse,

    /// <summary>Forward the request (the app handles it), relay half of the response, then abort (RST).</summary>
    ResetMidResponse,
}

/// <summary>A fault for one request.</summary>
public readonly record struct Fault(FaultKind Kind, TimeSpan Delay)
{
    public static Fault Pass => new(FaultKind.Pass, TimeSpan.Zero);

    public static Fault Cut => new(FaultKind.Cut, TimeSpan.Zero);

    public static Fault Reset => new(FaultKind.Reset, TimeSpan.Zero);

    public static Fault CutMidResponse => new(FaultKind.CutMidResponse, TimeSpan.Zero);

    public static Fault ResetMidResponse => new(FaultKind.ResetMidResponse, TimeSpan.Zero);

    public static Fault Hold(TimeSpan delay) => new(FaultKind.Delay, delay);

    public static Fault Of(FaultKind kind) => kind == FaultKind.Delay ? throw new ArgumentException("A delay needs its length: use Fault.Hold.", nameof(kind)) : new(kind, TimeSpan.Zero);
}

/// <summary>
/// A TCP proxy on 127.0.0.1 (a free port) in front of an HTTP/1.1 endpoint that injects a fault per request. It reads
/// HTTP/1.1 framing (Content-Length, chunked, read-to-close) just enough to find where each request and response ends,
/// so a kept-alive connection that carries several requests gets a fault decision for each of them. The next fault
/// comes from the <see cref="Script"/> queue while it has any, then from the chooser given at start (by default
/// <see cref="Fault.Pass"/>), under a lock, in the order requests arrive. Disposing stops the listener, cancels every
/// connection and waits for them: no work survives it.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private const int MaxHead = 64 * 1024;

    private readonly TcpListener _listener;
    private readonly IPEndPoint _target;
    private readonly Func<Fault> _choose;
    private readonly Lock _gate = new();
    private readonly Queue<Fault> _script = new();
    private readonly List<Task> _connections = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly int[] _injected = new int[Enum.GetValues<FaultKind>().Length];
    private readonly Task _acceptLoop;
    private int _connectionCount;
    private int _requestCount;
    private int _forwardedCount;

    private FaultProxy(IPEndPoint target, Func<Fault> choose)
    {
        _target = target;
        _choose = choose;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Url = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _acceptLoop = Task.Run(AcceptAsync);
    }

    /// <summary>Where clients connect: <c>http://127.0.0.1:{port}</c>.</summary>
    public Uri Url { get; }

    /// <summary>Connections accepted.</summary>
    public int Connections => Volatile.Read(ref _connectionCount);

    /// <summary>Complete requests read from clients (each got a fault decision).</summary>
    public int Requests => Volatile.Read(ref _requestCount);

    /// <summary>Requests written to the target (the app saw them).</summary>
    public int Forwarded => Volatile.Read(ref _forwardedCount);

    /// <summary>Starts a proxy to <paramref name="target"/> (a loopback <c>http://</c> address).</summary>
    public static FaultProxy Start(Uri target, Func<Fault>? choose = null)
    {
        ArgumentNullException.ThrowIfNull(target);
        var address = IPAddress.Parse(target.Host);
        if (!IPAddress.IsLoopback(address))
        {
            throw new ArgumentException($"The fault proxy forwards to loopback only; got {target}.", nameof(target));
        }

        return new FaultProxy(new IPEndPoint(address, target.Port), choose ?? (() => Fault.Pass));
    }

    /// <summary>
    /// A seeded mix: each request gets a delay (1 ms to <paramref name="maxDelay"/>), a cut, a reset or a cut/reset
    /// mid-response with the given probabilities, else passes.
    /// </summary>
    public static Func<Fault> Mix(int seed, double delay, double cut, double reset, double midResponse, TimeSpan maxDelay)
    {
        var random = new Random(seed);
        var maxMs = (int)maxDelay.TotalMilliseconds;
        return () =>
        {
            var u = random.NextDouble();
            if ((u -= delay) < 0)
            {
                return Fault.Hold(TimeSpan.FromMilliseconds(1 + random.Next(maxMs)));
            }

            if ((u -= cut) < 0)
            {
                return Fault.Cut;
            }

            if ((u -= reset) < 0)
            {
                return Fault.Reset;
            }

            if (u - midResponse < 0)
            {
                return random.Next(2) == 0 ? Fault.CutMidResponse : Fault.ResetMidResponse;
            }

            return Fault.Pass;
        };
    }

    /// <summary>Faults for the next requests, in order, before the chooser is asked again.</summary>
    public void Script(params Fault[] faults)
    {
        lock (_gate)
        {
            foreach (var fault in faults)
            {
                _script.Enqueue(fault);
            }
        }
    }

    /// <summary>How many requests got <paramref name="kind"/>.</summary>
    public int Injected(FaultKind kind) => Volatile.Read(ref _injected[(int)kind]);

    /// <summary>The counters, for assertion messages.</summary>
    public override string ToString() =>
        $"connections {Connections}, requests {Requests}, forwarded {Forwarded}, " +
        string.Join(", ", Enum.GetValues<FaultKind>().Select(k => $"{k} {Injected(k)}"));

    private Fault Next()
    {
        lock (_gate)
        {
            return _script.TryDequeue(out var scripted) ? scripted : _choose();
        }
    }

    private async Task AcceptAsync()
    {
        var stopping = _stop.Token;
        while (!stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(stopping);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                break;
            }

            Interlocked.Increment(ref _connectionCount);
            lock (_connections)
            {
                _connections.RemoveAll(t => t.IsCompleted);
                _connections.Add(Task.Run(() => ServeAsync(client, stopping), CancellationToken.None));
            }
        }
    }

    private async Task ServeAsync(Socket client, CancellationToken stopping)
    {
        Socket? upstream = null;
        try
        {
            client.NoDelay = true;
            await using var clientStream = new NetworkStream(client, ownsSocket: false);
            var fromClient = new HttpReader(clientStream);
            NetworkStream? upstreamStream = null;
            HttpReader? fromUpstream = null;
            while (true)
            {
                var request = await fromClient.ReadAsync(response: false, stopping);
                if (request is null)
                {
                    return;
                }

                Interlocked.Increment(ref _requestCount);
                var fault = Next();
                Interlocked.Increment(ref _injected[(int)fault.Kind]);
                switch (fault.Kind)
                {
                    case FaultKind.Delay:
                        await Task.Delay(fault.Delay, stopping);
                        if (ClientLeft(client))
                        {
                            return;
                        }

                        break;
                    case FaultKind.Cut:
                        client.Shutdown(SocketShutdown.Both);
                        return;
                    case FaultKind.Reset:
                        Abort(client);
                        return;
                    default:
                        break;
                }

                if (upstream is null)
                {
                    upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                    await upstream.ConnectAsync(_target, stopping);
                    upstreamStream = new NetworkStream(upstream, ownsSocket: false);
                    fromUpstream = new HttpReader(upstreamStream);
                }

                await upstreamStream!.WriteAsync(request.Bytes, stopping);
                Interlocked.Increment(ref _forwardedCount);
                HttpMessage response;
                do
                {
                    response = await fromUpstream!.ReadAsync(response: true, stopping)
                        ?? throw new IOException("The target closed the connection before answering.");
                    if (fault.Kind is FaultKind.CutMidResponse or FaultKind.ResetMidResponse)
                    {
                        await clientStream.WriteAsync(response.Bytes.AsMemory(0, Math.Max(1, response.Bytes.Length / 2)), stopping);
                        if (fault.Kind == FaultKind.ResetMidResponse)
                        {
                            Abort(client);
                        }
                        else
                        {
                            client.Shutdown(SocketShutdown.Both);
                        }

                        return;
                    }

                    await clientStream.WriteAsync(response.Bytes, stopping);
                }
                while (response.Interim);

                if (response.ClosesConnection)
                {
                    client.Shutdown(SocketShutdown.Both);
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or the target went away, or the proxy is stopping: this connection is over.
        }
        finally
        {
            client.Dispose();
            upstream?.Dispose();
        }
    }

    /// <summary>Whether the client closed or broke its side (a readable socket with nothing to read).</summary>
    private static bool ClientLeft(Socket client) => client.Poll(0, SelectMode.SelectRead) && client.Available == 0;

    private static void Abort(Socket socket)
    {
        socket.LingerState = new LingerOption(true, 0);
        socket.Close();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _acceptLoop;
        Task[] connections;
        lock (_connections)
        {
            connections = [.. _connections];
        }

        await Task.WhenAll(connections);
        _stop.Dispose();
    }

    /// <summary>One HTTP/1.1 message as it was on the wire.</summary>
    private sealed record HttpMessage(byte[] Bytes, bool ClosesConnection, bool Interim);

    /// <summary>Reads HTTP/1.1 messages off a stream verbatim, finding where each ends.</summary>
    private sealed class HttpReader(Stream stream)
    {
        private readonly byte[] _buffer = new byte[16 * 1024];
        private int _start;
        private int _end;

        /// <summary>The next message, or null when the stream ends before its first byte.</summary>
        public async Task<HttpMessage?> ReadAsync(bool response, CancellationToken cancellationToken)
        {
            var message = new MemoryStream();
            if (_start == _end && !await FillAsync(cancellationToken))
            {
                return null;
            }

            var head = await ReadHeadAsync(message, cancellationToken);
            var lines = head.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            var start = lines[0].Split(' ', 3);
            var headers = lines.Skip(1)
                .Select(l => l.Split(':', 2))
                .Where(p => p.Length == 2)
                .Select(p => (Name: p[0].Trim().ToLowerInvariant(), Value: p[1].Trim()))
                .ToList();
            string? Header(string name) => headers.Where(h => h.Name == name).Select(h => h.Value).LastOrDefault();

            var http10 = (response ? start[0] : start[^1]).EndsWith("/1.0", StringComparison.Ordinal);
            var closes = http10 || string.Equals(Header("connection"), "close", StringComparison.OrdinalIgnoreCase);
            var status = response ? int.Parse(start[1], CultureInfo.InvariantCulture) : 0;
            var interim = response && status is >= 100 and < 200 && status != 101;
            if (response && (interim || status is 204 or 304))
            {
                return new HttpMessage(message.ToArray(), closes, interim);
            }

            if (Header("transfer-encoding") is { } encoding && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
            {
                await CopyChunkedAsync(message, cancellationToken);
            }
            else if (Header("content-length") is { } length)
            {
                await CopyAsync(message, long.Parse(length, CultureInfo.InvariantCulture), cancellationToken);
            }
            else if (response)
            {
                while (await FillAsync(cancellationToken) || _start < _end)
                {
                    message.Write(_buffer, _start, _end - _start);
                    _start = _end;
                }

                closes = true;
            }

            return new HttpMessage(message.ToArray(), closes, false);
        }

        private async Task<bool> FillAsync(CancellationToken cancellationToken)
        {
            if (_start < _end)
            {
                return true;
            }

            _start = 0;
            _end = await stream.ReadAsync(_buffer, cancellationToken);
            return _end > 0;
        }

        private async Task<byte> ReadByteAsync(CancellationToken cancellationToken)
        {
            if (!await FillAsync(cancellationToken))
            {
                throw new IOException("The connection ended in the middle of an HTTP message.");
            }

            return _buffer[_start++];
        }

        private async Task<string> ReadHeadAsync(MemoryStream message, CancellationToken cancellationToken)
        {
            var from = message.Length;
            uint last4 = 0;
            while (last4 != 0x0D0A0D0A)
            {
                var b = await ReadByteAsync(cancellationToken);
                message.WriteByte(b);
                last4 = (last4 << 8) | b;
                if (message.Length - from > MaxHead)
                {
                    throw new IOException($"An HTTP head longer than {MaxHead} bytes: not HTTP/1.1?");
                }
            }

            return Encoding.Latin1.GetString(message.GetBuffer(), (int)from, (int)(message.Length - from));
        }

        private async Task<string> ReadLineAsync(MemoryStream message, CancellationToken cancellationToken)
        {
            var line = new StringBuilder();
            while (true)
            {
                var b = await ReadByteAsync(cancellationToken);
                message.WriteByte(b);
                if (b == '\n')
                {
                    return line.ToString().TrimEnd('\r');
                }

                line.Append((char)b);
            }
        }

        private async Task CopyAsync(MemoryStream message, long count, CancellationToken cancellationToken)
        {
            while (count > 0)
            {
                if (!await FillAsync(cancellationToken))
                {
                    throw new IOException("The connection ended in the middle of an HTTP body.");
                }

                var n = (int)Math.Min(count, _end - _start);
                message.Write(_buffer, _start, n);
                _start += n;
                count -= n;
            }
        }

        private async Task CopyChunkedAsync(MemoryStream message, CancellationToken cancellationToken)
        {
            while (true)
            {
                var sizeLine = await ReadLineAsync(message, cancellationToken);
                var size = long.Parse(sizeLine.Split(';', 2)[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    // Trailers, then the empty line that ends the message.
                    while ((await ReadLineAsync(message, cancellationToken)).Length > 0)
                    {
                    }

                    return;
                }

                await CopyAsync(message, size + 2, cancellationToken);
            }
        }
    }
}
