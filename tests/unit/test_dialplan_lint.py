"""The static dialplan check: our dialplan passes; each kind of mistake is named with its line."""

from __future__ import annotations

from pathlib import Path

from app.pbx.dialplan_lint import lint

ROOT = Path(__file__).resolve().parents[2]


def test_our_dialplan_passes() -> None:
    assert lint(ROOT / "asterisk-config" / "extensions.conf") == []


def test_mistakes_are_named_with_file_and_line(tmp_path: Path) -> None:
    main = tmp_path / "extensions.conf"
    main.write_text(
        "[general]\nstatic = yes\n"
        "#include more.conf\n"
        "#include missing.conf\n"
        "[from-pstn]\n"
        "same => n,NoOp(no exten before me)\n"  # 6
        "exten => _+X.,1,Stasis(frontdesk,agent)\n"
        " same => n,GotoIf($[${STASISSTATUS} = FAILED]?fallback,s,1:nowhere,s,1)\n"  # 8
        " same => n,Goto(${DEST},s,1)\n"  # 9: a variable target is not checked
        "exten => 200,x,NoOp()\n"  # 10
        "exten => 201,1,Set(A=${B)\n"  # 11
        "exten => 202,1,Stasis(someone-else)\n"  # 12
        "include => staff\n"  # 13
        "this is not a line\n"  # 14
        "[fallback]\n"
        "exten => s,1,Hangup()\n"
    )
    (tmp_path / "more.conf").write_text("[from-pstn]\nexten => 300,1,Hangup()\n")
    found = [(p.path.name, p.line, p.message) for p in lint(main)]
    assert found == [
        ("extensions.conf", 4, "#include missing.conf: no such file"),
        ("extensions.conf", 5, found[1][2]),
        ("extensions.conf", 6, "'same =>' with no 'exten =>' before it in this context"),
        ("extensions.conf", 8, "goes to context [nowhere], which is not defined"),
        ("extensions.conf", 10, "priority 'x' is not a number, n, n(label) or hint"),
        ("extensions.conf", 11, "an unclosed '{' in Set(A=${B)"),
        ("extensions.conf", 12, "Stasis(someone-else) is not our application 'frontdesk'"),
        ("extensions.conf", 13, "goes to context [staff], which is not defined"),
        ("extensions.conf", 14, "not an exten/same/include line: this is not a line"),
    ]
    assert "[from-pstn] is also defined at" in found[1][2] and "more.conf:1" in found[1][2]
