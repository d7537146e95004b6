// YAML for rule files, quick on Debian 12's jsonnet 0.18, whose
// std.manifestYamlDoc escapes every string one character at a time (seconds
// for a rule file). The same document structure as
// std.manifestYamlDoc(value, indent_array_in_object=true, quote_keys=false):
// two-space indentation, fields in sorted order, keys plain (they are rule
// and label names), strings ending in a newline as `|` literal blocks. Other
// strings are single-quoted, where only ' needs escaping (as ''); one with a
// newline inside falls back to std.escapeStringJson, which YAML reads too.
local isBlock(value) =
  std.type(value) == 'string' && std.endsWith(value, '\n');
local isCollection(value) =
  std.member(['object', 'array'], std.type(value)) && std.length(value) > 0;

local scalar(value) =
  if std.type(value) == 'string' then
    if std.length(std.split(value, '\n')) > 1 then std.escapeStringJson(value)
    else "'" + std.strReplace(value, "'", "''") + "'"
  else if std.type(value) == 'object' then '{}'
  else if std.type(value) == 'array' then '[]'
  else if value == null then 'null'
  else std.toString(value);  // number, boolean

// The `|` header and the lines of a literal block at `indent`. Keep (+) when
// the text ends in several newlines; an explicit indentation when its first
// line starts with a space.
local block(text, indent) =
  local lines = std.split(text, '\n');
  local content = lines[0:std.length(lines) - 1];
  {
    header: '|' + (if std.startsWith(text, ' ') then '2' else '')
            + (if std.endsWith(text, '\n\n') then '+' else ''),
    lines: [if line == '' then '' else indent + line for line in content],
  };

// The lines of a non-empty collection whose items start at `indent`.
local linesOf(value, indent) =
  local nested = indent + '  ';
  // `prefix` is "key:" or "-"; a nested collection under "-" starts on the
  // dash's line.
  local entry(prefix, item, dashed) =
    if isCollection(item) then
      local inner = linesOf(item, nested);
      if dashed then [indent + prefix + ' ' + std.lstripChars(inner[0], ' ')] + inner[1:]
      else [indent + prefix] + inner
    else if isBlock(item) then
      local literal = block(item, nested);
      [indent + prefix + ' ' + literal.header] + literal.lines
    else [indent + prefix + ' ' + scalar(item)];
  if std.type(value) == 'object' then
    std.flattenArrays([entry(key + ':', value[key], false) for key in std.objectFields(value)])
  else
    std.flattenArrays([entry('-', item, true) for item in value]);

{
  // The document, without a final newline (jsonnet -S -m adds one).
  manifest(value):: std.join('\n', linesOf(value, '')),
}
