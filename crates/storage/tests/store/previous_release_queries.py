#!/usr/bin/env python3
"""Writes previous_release_queries.sql: every SQL statement the storage crate of
a release sends, taken from its sources at a commit, one per line.

    python3 crates/storage/tests/store/previous_release_queries.py e8cead7 \
        > crates/storage/tests/store/previous_release_queries.sql

The statements are the string literals of crates/storage/src/*.rs (not db/, the
connection plumbing, and not the files' unit tests) that begin with SELECT,
INSERT, UPDATE, DELETE or WITH, after expanding `concat!` and the small macros
that name a column list (`account_columns!()`). Whitespace is collapsed so that each fits on
one line; the SQL itself is untouched."""

import re
import subprocess
import sys

commit = sys.argv[1] if len(sys.argv) > 1 else "e8cead7"
files = subprocess.run(
    ["git", "ls-tree", "-r", "--name-only", commit, "crates/storage/src"],
    check=True, capture_output=True, text=True,
).stdout.split()
literal = re.compile(r'"((?:[^"\\]|\\.)*)"', re.S)
statement = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|WITH)\b")

print(f"-- The SQL of the storage crate at {commit}, one statement a line; made by")
print(f"-- previous_release_queries.py {commit} (see there). Each is prepared against")
print("-- the current schema: an instance of that release must keep working on it.")


def closing(text, start):
    """The index just past the parenthesis that closes the one at `start`."""
    depth = 0
    i = start
    while i < len(text):
        if text[i] == '"':
            i = literal.match(text, i).end()
            continue
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced parentheses")


def expand(expression, macros):
    """The text of a string literal, a `name!()` or a `concat!(…)` of them."""
    expression = expression.strip()
    if expression.startswith('"'):
        return literal.match(expression).group(1)
    if expression.startswith("concat!("):
        inner = expression[len("concat!("):closing(expression, len("concat!")) - 1]
        parts, depth, current, i = [], 0, "", 0
        while i < len(inner):
            if inner[i] == '"':
                end = literal.match(inner, i).end()
                current += inner[i:end]
                i = end
                continue
            if inner[i] == "(":
                depth += 1
            elif inner[i] == ")":
                depth -= 1
            if inner[i] == "," and depth == 0:
                parts.append(current)
                current = ""
            else:
                current += inner[i]
            i += 1
        parts.append(current)
        return "".join(expand(part, macros) for part in parts if part.strip())
    name = re.match(r"(\w+)!\(\)", expression)
    if name and name.group(1) in macros:
        return expand(macros[name.group(1)], macros)
    raise ValueError(f"cannot expand {expression[:60]!r}")


definition = re.compile(r"macro_rules!\s*(\w+)\s*\{\s*\(\)\s*=>\s*\{(.*?)\};\s*\}", re.S)


def with_concat_expanded(source):
    """The source with each macro that names SQL removed and each `concat!`
    replaced by the one literal it builds."""
    macros = {name: body for name, body in definition.findall(source)}
    source = definition.sub("", source)
    while (start := source.find("concat!(")) >= 0:
        end = closing(source, start + len("concat!"))
        source = source[:start] + '"' + expand(source[start:end], macros) + '"' + source[end:]
    return source


seen = set()
for path in sorted(files):
    if "/db/" in path or not path.endswith(".rs"):
        continue
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"], check=True, capture_output=True, text=True
    ).stdout
    source = with_concat_expanded(source.split("#[cfg(test)]\nmod tests")[0])
    for match in literal.finditer(source):
        text = match.group(1)
        if not statement.match(text):
            continue
        # A `\` at a line's end continues the literal without the line break.
        text = re.sub(r"\\\n\s*", "", text)
        one_line = " ".join(text.split())
        if one_line not in seen:
            seen.add(one_line)
            print(f"-- {path.removeprefix('crates/storage/src/')}")
            print(one_line)
