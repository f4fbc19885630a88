using System.Text.Json;
using System.Text.Json.Nodes;
using Herald.Sdk;

namespace TestSubscriber;

/// <summary>
/// Keeps one record per handler call, in memory and (when <c>TEST_SUBSCRIBER_RECORD</c> names a file) as one JSON line
/// per call appended to that file.
/// </summary>
public sealed class Recorder(string? file, TimeProvider timeProvider)
{
    public const string RecordFileKey = "TEST_SUBSCRIBER_RECORD";

    private readonly Lock _gate = new();
    private readonly List<JsonObject> _records = [];
    private volatile bool _fixed;

    /// <summary>Whether the <c>fix</c> route has been called.</summary>
    public bool Fixed => _fixed;

    public DateTimeOffset Now => timeProvider.GetUtcNow();

    public void Fix() => _fixed = true;

    public void Record(EventContext context, DateTimeOffset startedAt, object outcome)
    {
        var record = new JsonObject
        {
            ["handler"] = context.HandlerId,
            ["eventId"] = context.EventId,
            ["attempt"] = context.Attempt,
            ["key"] = context.Key,
            ["sender"] = context.Sender,
            ["subject"] = context.Subject,
            ["account"] = context.Account,
            ["workspace"] = context.Workspace,
            ["body"] = JsonNode.Parse(context.Body.GetRawText()),
            ["at"] = startedAt.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["finishedAt"] = timeProvider.GetUtcNow().UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            ["outcome"] = JsonValue.Create(outcome.ToString()),
        };
        if (outcome is int status)
        {
            record["outcome"] = status;
        }

        var line = record.ToJsonString();
        lock (_gate)
        {
            _records.Add(record);
            if (file is not null)
            {
                File.AppendAllText(file, line + "\n");
            }
        }
    }

    /// <summary>Every record so far, as a JSON array.</summary>
    public string ToJson()
    {
        lock (_gate)
        {
            var array = new JsonArray([.. _records.Select(r => r.DeepClone())]);
            return array.ToJsonString(new JsonSerializerOptions { WriteIndented = false });
        }
    }
}
