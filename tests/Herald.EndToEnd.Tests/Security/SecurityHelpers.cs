using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Herald.EndToEnd.Tests.Security;

/// <summary>A live tail (<c>GET /{account}/{workspace}/events</c>, Server-Sent Events) read in the background.</summary>
public sealed class SseTail : IAsyncDisposable
{
    private readonly HttpClient _client;
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reading;
    private readonly ConcurrentQueue<JsonElement> _events = new();

    private SseTail(HttpClient client, HttpResponseMessage response)
    {
        _client = client;
        _response = response;
        _reading = ReadAsync();
    }

    /// <summary>The <c>data:</c> events seen so far.</summary>
    public IReadOnlyCollection<JsonElement> Events => _events;

    /// <summary>Whether the broker has closed the stream.</summary>
    public bool Ended => _reading.IsCompleted;

    /// <summary>Opens the tail; the broker subscribes the reader before it answers the headers, so events from now on are seen.</summary>
    public static async Task<SseTail> OpenAsync(Uri broker, string path, string token)
    {
        var client = new HttpClient { BaseAddress = broker, Timeout = Timeout.InfiniteTimeSpan };
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.True(response.IsSuccessStatusCode, $"tail {path}: {(int)response.StatusCode}");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseTail(client, response);
    }

    private async Task ReadAsync()
    {
        try
        {
            using var stream = await _response.Content.ReadAsStreamAsync(_stop.Token);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal) && line.Length > 8)
                {
                    _events.Enqueue(JsonDocument.Parse(line[6..]).RootElement.Clone());
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException)
        {
            // Closed by the test or the broker.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        await _reading;
        _client.Dispose();
        _stop.Dispose();
    }
}

/// <summary>
/// HTTP/1.1 written byte for byte over a socket, for requests <see cref="HttpClient"/> would normalise or refuse to send
/// (dot segments, NUL, bare CR or LF in a header).
/// </summary>
public static class RawHttp
{
    /// <summary>Builds a request: the request line, Host, the headers as given, Content-Length and Connection: close.</summary>
    public static byte[] Build(string method, string target, Uri host, IEnumerable<string> headerLines, byte[]? body = null)
    {
        var head = new StringBuilder()
            .Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n")
            .Append("Host: ").Append(host.Authority).Append("\r\n");
        foreach (var line in headerLines)
        {
            head.Append(line).Append("\r\n");
        }

        if (body is not null)
        {
            head.Append("Content-Type: application/json\r\nContent-Length: ").Append(body.Length).Append("\r\n");
        }

        head.Append("Connection: close\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. body ?? []];
    }

    /// <summary>Sends the bytes and reads the answer until the server closes; answers the status code and the whole response.</summary>
    public static async Task<(int Status, string Response)> SendAsync(Uri server, byte[] request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.Host, server.Port, timeout.Token);
        var stream = tcp.GetStream();
        await stream.WriteAsync(request, timeout.Token);
        await stream.FlushAsync(timeout.Token);
        using var answer = new MemoryStream();
        try
        {
            await stream.CopyToAsync(answer, timeout.Token);
        }
        catch (IOException)
        {
            // Reset after the answer: keep what came.
        }

        var text = Encoding.UTF8.GetString(answer.ToArray());
        var parts = text.Split(' ', 3);
        var status = parts.Length >= 2 && text.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) && int.TryParse(parts[1], out var code) ? code : 0;
        return (status, text);
    }
}
