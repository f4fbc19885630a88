using System.Text;

namespace Herald.Cli;

/// <summary>Plain text table: columns padded to their widest cell; numeric columns aligned right.</summary>
internal sealed class TextTable
{
    private readonly string[] _headers;
    private readonly bool[] _rightAligned;
    private readonly List<string[]> _rows = [];

    /// <param name="headers">Column headers; a header ending in <c>&gt;</c> marks a right-aligned column.</param>
    public TextTable(params string[] headers)
    {
        _rightAligned = headers.Select(h => h.EndsWith('>')).ToArray();
        _headers = headers.Select(h => h.TrimEnd('>')).ToArray();
    }

    /// <summary>Adds a row (one cell per column).</summary>
    public void Add(params string[] cells) => _rows.Add(cells);

    /// <summary>Writes the table, two spaces between columns, no trailing spaces.</summary>
    public void WriteTo(TextWriter writer, string indent = "")
    {
        var widths = _headers.Select((h, i) => Math.Max(h.Length, _rows.Count == 0 ? 0 : _rows.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        foreach (var row in _rows.Prepend(_headers))
        {
            var line = new StringBuilder(indent);
            for (var i = 0; i < widths.Length; i++)
            {
                var cell = i < row.Length ? row[i] : "";
                if (i > 0)
                {
                    line.Append("  ");
                }

                line.Append(_rightAligned[i] ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
            }

            writer.WriteLine(line.ToString().TrimEnd());
        }
    }
}
