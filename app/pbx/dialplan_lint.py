"""A static check of the hand-edited dialplan (`frontdesk dialplan check` without Asterisk).

It reads extensions.conf and everything it #includes, and reports, as file:line, what would
make Asterisk skip a line or send a caller nowhere: a malformed `exten`/`same` line, a `same`
with no `exten` before it, unbalanced parentheses, `${…}` or `$[…]`, an `#include` of a missing
file, an `include =>` or a Goto/GotoIf/Gosub to a context that does not exist, and Stasis()
naming an application other than ours. A real Asterisk (when installed) checks the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_SECTION = re.compile(r"^\[([^\]]+)\](?:\(([^)]*)\))?\s*$")
_EXTEN = re.compile(r"^exten\s*=>?\s*(?P<ext>[^,]+),(?P<prio>[^,]+),(?P<app>.*)$", re.IGNORECASE)
_SAME = re.compile(r"^same\s*=>?\s*(?P<prio>[^,]+),(?P<app>.*)$", re.IGNORECASE)
_INCLUDE = re.compile(r"^include\s*=>?\s*(?P<ctx>\S+)", re.IGNORECASE)
_HASH_INCLUDE = re.compile(r'^#include\s+"?(?P<file>[^"\s]+)"?')
_PRIORITY = re.compile(r"^(?:\d+|n|hint)(?:\([A-Za-z0-9_-]+\))?$")
_APP = re.compile(r"^\s*(?P<name>[A-Za-z][A-Za-z0-9_]*)\s*(?:\((?P<args>.*)\))?\s*$")
_JUMPS = {"goto", "gotoif", "gosub", "gosubif"}
_SETTING_LINES = (
    "static",
    "writeprotect",
    "autofallthrough",
    "clearglobalvars",
    "extenpatternmatchnew",
)


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"

    def relative_to(self, root: Path) -> str:
        path = self.path.relative_to(root) if self.path.is_relative_to(root) else self.path
        return f"{path}:{self.line}: {self.message}"


@dataclass
class _Dialplan:
    contexts: dict[str, tuple[Path, int]] = field(default_factory=dict)
    # applications called: name (lower case) -> where first
    applications: dict[str, tuple[Path, int]] = field(default_factory=dict)
    jumps: list[tuple[Path, int, str]] = field(default_factory=list)  # context names jumped to
    problems: list[Problem] = field(default_factory=list)


def _balanced(text: str) -> str | None:
    """What is unbalanced in an application's arguments, or None."""
    depth = {"(": 0, "{": 0, "[": 0}
    pairs = {")": "(", "}": "{", "]": "["}
    for char in text:
        if char in depth:
            depth[char] += 1
        elif char in pairs:
            depth[pairs[char]] -= 1
            if depth[pairs[char]] < 0:
                return f"an unmatched {char!r}"
    for opener, count in depth.items():
        if count:
            return f"an unclosed {opener!r}"
    return None


def _jump_contexts(app: str, args: str) -> list[str]:
    """Literal contexts a Goto/GotoIf/Gosub may go to (targets with variables are skipped)."""
    targets = [args]
    if app in ("gotoif", "gosubif") and "?" in args:
        targets = re.split(r"(?<!\\):", args.split("?", 1)[1])
    contexts = []
    for target in targets:
        parts = [p.strip() for p in target.split(",")]
        if len(parts) == 3 and parts[0] and "$" not in parts[0]:
            contexts.append(parts[0].split("(")[0])
    return contexts


def _read(path: Path, plan: _Dialplan, app_name: str, seen: set[Path]) -> None:
    if path in seen:
        return
    seen.add(path)
    context: str | None = None
    last_exten = False
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.split(";", 1)[0].strip() if not raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        include = _HASH_INCLUDE.match(line)
        if include:
            target = (path.parent / include.group("file")).resolve()
            if not target.exists():  # asterisk-config/ sees dialplan/ beside it when mounted
                target = (path.parent.parent / include.group("file")).resolve()
            if not target.exists():
                plan.problems.append(
                    Problem(path, number, f"#include {include.group('file')}: no such file")
                )
            else:
                _read(target, plan, app_name, seen)
            continue
        section = _SECTION.match(line)
        if section:
            context, last_exten = section.group(1).strip(), False
            if context in plan.contexts and context not in ("general", "globals"):
                first = plan.contexts[context]
                plan.problems.append(
                    Problem(
                        path,
                        number,
                        f"context [{context}] is also defined at {first[0]}:{first[1]}; Asterisk merges them, which is rarely meant",
                    )
                )
            plan.contexts.setdefault(context, (path, number))
            continue
        if context in (None, "general", "globals"):
            continue
        exten, same = _EXTEN.match(line), _SAME.match(line)
        if line.lower().startswith("include"):
            match = _INCLUDE.match(line)
            if match:
                plan.jumps.append((path, number, match.group("ctx")))
            continue
        if exten is None and same is None:
            if not line.lower().startswith(_SETTING_LINES):
                plan.problems.append(
                    Problem(path, number, f"not an exten/same/include line: {line[:60]}")
                )
            continue
        if same is not None and not last_exten:
            plan.problems.append(
                Problem(path, number, "'same =>' with no 'exten =>' before it in this context")
            )
        last_exten = True
        match = exten or same
        assert match is not None
        priority = match.group("prio").strip()
        if not _PRIORITY.match(priority):
            plan.problems.append(
                Problem(path, number, f"priority {priority!r} is not a number, n, n(label) or hint")
            )
        body = match.group("app").strip()
        unbalanced = _balanced(body)
        if unbalanced:
            plan.problems.append(Problem(path, number, f"{unbalanced} in {body[:60]}"))
            continue
        call = _APP.match(body)
        if call is None:
            plan.problems.append(Problem(path, number, f"not an application call: {body[:60]}"))
            continue
        name, args = call.group("name").lower(), call.group("args") or ""
        plan.applications.setdefault(name, (path, number))
        if name in _JUMPS:
            plan.jumps += [(path, number, ctx) for ctx in _jump_contexts(name, args)]
        if name == "stasis" and args.split(",")[0].strip() != app_name:
            plan.problems.append(
                Problem(
                    path,
                    number,
                    f"Stasis({args.split(',')[0]}) is not our application {app_name!r}",
                )
            )


def lint(extensions_conf: Path, app_name: str = "frontdesk") -> list[Problem]:
    """Every problem found, in file order."""
    plan = _Dialplan()
    _read(extensions_conf.resolve(), plan, app_name, set())
    for path, number, context in plan.jumps:
        if context not in plan.contexts:
            plan.problems.append(
                Problem(path, number, f"goes to context [{context}], which is not defined")
            )
    return sorted(plan.problems, key=lambda p: (str(p.path), p.line))


def applications(extensions_conf: Path) -> dict[str, tuple[Path, int]]:
    """The dialplan applications the dialplan calls (lower case), with where each is first."""
    plan = _Dialplan()
    _read(extensions_conf.resolve(), plan, "frontdesk", set())
    return plan.applications
