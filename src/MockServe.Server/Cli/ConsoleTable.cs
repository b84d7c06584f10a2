using Spectre.Console;
using Spectre.Console.Rendering;

namespace MockServe.Server.Cli;

/// <summary>
/// Renders Spectre.Console tables to a command's writer. On a terminal Spectre decides colour and width;
/// anywhere else (a file, a pipe, a test's StringWriter) the output is plain text that never wraps.
/// </summary>
internal static class ConsoleTable
{
    private const int RedirectedWidth = 240;

    public static Table Create(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Simple);
        foreach (string column in columns)
        {
            table.AddColumn(new TableColumn(column));
        }

        // The first column holds ids; on a narrow terminal the figures may wrap, an id must not.
        table.Columns[0].NoWrap();

        return table;
    }

    public static Table RightAlign(this Table table, params int[] columns)
    {
        foreach (int column in columns)
        {
            table.Columns[column].RightAligned();
        }

        return table;
    }

    public static void Write(TextWriter writer, IRenderable renderable)
    {
        var output = new AnsiConsoleOutput(writer);
        if (output.IsTerminal)
        {
            AnsiConsole.Create(new AnsiConsoleSettings { Out = output, Interactive = InteractionSupport.No }).Write(renderable);
            return;
        }

        var buffer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(buffer),
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = RedirectedWidth;
        console.Write(renderable);

        // Spectre pads every cell and frames the table with blank lines; in a file or a pipe that is noise.
        var lines = buffer.ToString().Split('\n').Select(line => line.TrimEnd()).ToList();
        int first = lines.FindIndex(line => line.Length > 0);
        int last = lines.FindLastIndex(line => line.Length > 0);
        for (int i = first; first >= 0 && i <= last; i++)
        {
            writer.WriteLine(lines[i]);
        }
    }
}
