using System.Globalization;

namespace MockServe.Core.Profiles;

/// <summary>
/// Typed reads of a <see cref="ProfileDocument"/>'s fields. Every problem is collected, not thrown, so one
/// run reports all of a file's mistakes, each as "file:line: field: what is wrong".
/// </summary>
internal sealed class ProfileFields
{
    private readonly ProfileDocument _document;
    private readonly Dictionary<string, RawValue> _values = new(StringComparer.Ordinal);
    private readonly List<string> _errors = [];
    private readonly HashSet<string> _fieldsWithErrors = new(StringComparer.Ordinal);

    public ProfileFields(ProfileDocument document, string kind, IReadOnlyList<string> knownFields)
    {
        _document = document;
        foreach (var field in document.Fields)
        {
            if (!knownFields.Contains(field.Name, StringComparer.Ordinal))
            {
                string hint = ClosestKnown(field.Name, knownFields) is { } guess ? $" (did you mean '{guess}'?)" : "";
                Error(field.Name, field.Value.Line, $"unknown field{hint}; known {kind} fields: {string.Join(", ", knownFields)}");
            }
            else if (_values.TryGetValue(field.Name, out var first))
            {
                Error(field.Name, field.Value.Line, $"appears twice (first on line {first.Line})");
            }
            else
            {
                _values[field.Name] = field.Value;
            }
        }
    }

    public bool Has(string field) => _values.ContainsKey(field);

    public string? String(string field, bool required = false)
    {
        if (!TryGet(field, required, out var value))
        {
            return null;
        }

        if (value.Kind is RawKind.String or RawKind.Plain)
        {
            return value.Text;
        }

        Mismatch(field, value, "a string");
        return null;
    }

    public double? Double(string field, bool required = false)
    {
        if (!TryGet(field, required, out var value))
        {
            return null;
        }

        if (value.Kind is RawKind.Number or RawKind.Plain
            && double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number))
        {
            return number;
        }

        Mismatch(field, value, "a number");
        return null;
    }

    public bool? Bool(string field)
    {
        if (!TryGet(field, required: false, out var value))
        {
            return null;
        }

        if (value.Kind is RawKind.Boolean or RawKind.Plain && bool.TryParse(value.Text, out bool flag))
        {
            return flag;
        }

        Mismatch(field, value, "true or false");
        return null;
    }

    public int? Int(string field, bool required = false)
    {
        if (!TryGet(field, required, out var value))
        {
            return null;
        }

        if (value.Kind is RawKind.Number or RawKind.Plain
            && double.TryParse(value.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number)
            && number == Math.Floor(number)
            && number is >= int.MinValue and <= int.MaxValue)
        {
            return (int)number;
        }

        Mismatch(field, value, "a whole number");
        return null;
    }

    public AttentionKind? Attention(string field)
    {
        if (!TryGet(field, required: false, out var value))
        {
            return null;
        }

        AttentionKind? kind = value.Kind is RawKind.String or RawKind.Plain
            ? value.Text.ToLowerInvariant() switch
            {
                "mha" => AttentionKind.Mha,
                "gqa" => AttentionKind.Gqa,
                "mqa" => AttentionKind.Mqa,
                "mla" => AttentionKind.Mla,
                _ => null,
            }
            : null;
        if (kind is null)
        {
            Mismatch(field, value, "one of mha, gqa, mqa, mla");
        }

        return kind;
    }

    /// <summary>
    /// Adds the range checks of a profile's own <c>Validate()</c> ("field: problem"), with the field's line,
    /// except for fields that already have an error: a missing field need not also be "not positive".
    /// </summary>
    public void AddValidationErrors(IEnumerable<string> errors)
    {
        foreach (string error in errors)
        {
            int colon = error.IndexOf(':', StringComparison.Ordinal);
            string field = colon > 0 ? error[..colon] : "";
            if (_fieldsWithErrors.Contains(field))
            {
                continue;
            }

            _errors.Add(_values.TryGetValue(field, out var value)
                ? $"{_document.Source}:{value.Line}: {error}"
                : $"{_document.Source}: {error}");
        }
    }

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
        {
            throw new ProfileException(string.Join(Environment.NewLine, _errors));
        }
    }

    private bool TryGet(string field, bool required, out RawValue value)
    {
        if (_values.TryGetValue(field, out value))
        {
            return true;
        }

        if (required && !_fieldsWithErrors.Contains(field))
        {
            _fieldsWithErrors.Add(field);
            _errors.Add($"{_document.Source}: {field}: required field is missing");
        }

        return false;
    }

    private void Mismatch(string field, RawValue value, string expected) =>
        Error(field, value.Line, $"expected {expected}, got {value.Describe()}");

    private void Error(string field, long line, string message)
    {
        _fieldsWithErrors.Add(field);
        _errors.Add($"{_document.Source}:{line}: {field}: {message}");
    }

    // A misspelt or miscased field name most likely means the known field a couple of edits away.
    private static string? ClosestKnown(string name, IReadOnlyList<string> knownFields)
    {
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (string known in knownFields)
        {
            int distance = EditDistance(name.ToLowerInvariant(), known.ToLowerInvariant());
            if (distance < bestDistance)
            {
                (best, bestDistance) = (known, distance);
            }
        }

        return bestDistance <= Math.Max(1, name.Length / 4) ? best : null;
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
