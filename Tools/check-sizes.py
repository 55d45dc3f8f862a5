#!/usr/bin/env python3
"""Checks the sizes the project holds its services to: in Services/, no file over 400 lines, no
function over 60 lines, and a median function under 10 lines. Prints the largest and exits 1
when a limit is broken; with --limits-only (as `make lint` runs it) the median is reported but
not held to, until the services reach it. A function's lines run from its `func` (or `init`) line to its closing
brace; strings and comments are skipped when braces are counted."""
import re
import statistics
import sys
from pathlib import Path

MAX_FILE, MAX_FUNCTION, MAX_MEDIAN = 400, 60, 10
DECLARATION = re.compile(r"^\s*(?:@\w+(?:\([^)]*\))?\s+)*(?:(?:public|private|fileprivate|internal|static|"
                         r"override|mutating|nonisolated|final|convenience|required)\s+)*(?:func\s+\w+|init[?!]?)\s*[(<]")


def code_only(line: str, in_string: bool) -> tuple[str, bool]:
    """The line without string literals and comments; whether a multi-line string is still open."""
    out, i = [], 0
    while i < len(line):
        if in_string:
            end = line.find('"""', i)
            if end < 0:
                return "".join(out), True
            i, in_string = end + 3, False
        elif line.startswith('"""', i):
            i, in_string = i + 3, True
        elif line.startswith("//", i):
            break
        elif line[i] == '"':
            i += 1
            while i < len(line) and line[i] != '"':
                i += 2 if line[i] == "\\" else 1
            i += 1
        else:
            out.append(line[i])
            i += 1
    return "".join(out), in_string


def functions(path: Path) -> list[tuple[int, int]]:
    """(first line, length) of every function in a file."""
    lines = path.read_text().splitlines()
    found, in_string = [], False
    open_functions: list[tuple[int, int]] = []  # (start line, depth at which its body opened)
    depth = 0
    pending: int | None = None
    for number, raw in enumerate(lines, 1):
        code, in_string_after = code_only(raw, in_string)
        if not in_string and DECLARATION.match(raw) and "protocol" not in raw:
            pending = number
        for char in code:
            if char == "{":
                depth += 1
                if pending is not None:
                    open_functions.append((pending, depth))
                    pending = None
            elif char == "}":
                if open_functions and open_functions[-1][1] == depth:
                    start, _ = open_functions.pop()
                    found.append((start, number - start + 1))
                depth -= 1
        in_string = in_string_after
    return found


def main() -> int:
    arguments = [a for a in sys.argv[1:] if a != "--limits-only"]
    limits_only = len(arguments) < len(sys.argv) - 1
    root = Path(arguments[0] if arguments else "Services")
    sizes, problems = [], []
    for path in sorted(root.rglob("*.swift")):
        count = len(path.read_text().splitlines())
        if count > MAX_FILE:
            problems.append(f"{path}: {count} lines (at most {MAX_FILE})")
        for start, length in functions(path):
            sizes.append((length, f"{path}:{start}"))
            if length > MAX_FUNCTION:
                problems.append(f"{path}:{start}: a function of {length} lines (at most {MAX_FUNCTION})")
    median = statistics.median(length for length, _ in sizes)
    print(f"{len(sizes)} functions in {root}/: median {median} lines, largest {max(sizes)[0]}")
    for length, where in sorted(sizes, reverse=True)[:5]:
        print(f"  {length:4d}  {where}")
    if median >= MAX_MEDIAN and not limits_only:
        problems.append(f"the median function is {median} lines (under {MAX_MEDIAN})")
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
