"""Markdown as GitHub renders it: what would not render cleanly (shared by the brief's tests)."""

from __future__ import annotations

import re


def _cells(line: str) -> list[str]:
    """The cells of a GFM table row: split on the pipes that are not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def markdown_problems(md: str) -> list[str]:
    """What would not render cleanly on GitHub: an HTML entity (&nbsp; and the like), a table
    without a blank line before it or without its delimiter row, a row of another width than
    its header, an unescaped "$" outside code and link addresses (GitHub reads the text between
    two as inline math), and, rendered, a table that is not one or a pipe left in the text."""
    problems = [f"entity {e}" for e in re.findall(r"&(?:[a-z]+|#\d+);", md)]
    lines = md.splitlines()
    i = 0
    while i < len(lines):
        if not lines[i].startswith("|"):
            i += 1
            continue
        if i and lines[i - 1].strip():
            problems.append(f"line {i + 1}: no blank line before the table")
        width = len(_cells(lines[i]))
        if i + 1 >= len(lines) or not all(re.fullmatch(r":?-+:?", c) for c in _cells(lines[i + 1])):
            problems.append(f"line {i + 2}: no delimiter row")
        j = i + 1
        while j < len(lines) and lines[j].startswith("|"):
            if len(_cells(lines[j])) != width:
                problems.append(f"line {j + 1}: {len(_cells(lines[j]))} cells, the header has {width}")
            j += 1
        i = j
    prose = re.sub(r"`[^`]*`", "", re.sub(r"\]\([^)\s]*\)", "]", md))
    problems += [f"unescaped $ in {m!r}" for m in re.findall(r".{0,20}(?<!\\)\$.{0,10}", prose)]
    if problems:
        return problems
    rendered = render_markdown(md)
    tables = re.findall(r"<table>.*?</table>", rendered, flags=re.S)
    expected = len(re.findall(r"(?m)^(?!\|).*\n\|", "\n" + md))
    if len(tables) != expected:
        problems.append(f"{len(tables)} tables rendered, {expected} written")
    for table in tables:
        rows = re.findall(r"<tr>.*?</tr>", table, flags=re.S)
        widths = {len(re.findall(r"<t[hd][ >]", row)) for row in rows}
        if len(widths) != 1:
            problems.append(f"a table renders rows of {sorted(widths)} cells")
    leftover = re.sub(r"<table>.*?</table>", "", rendered, flags=re.S)
    # a table that did not render as one is left as lines of pipes
    problems += [f"a table left as text: {m!r}" for m in re.findall(r"(?m)^(?:<p>)?\|.{0,40}", leftover)]
    return problems


def render_markdown(md: str) -> str:
    """The HTML of CommonMark with GFM tables (markdown-it-py, which rich depends on)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable("table").render(md)
