"""Start-up: a subcommand's module is imported only when that command runs; the list of
commands (--help) comes from a table in fairdesk/cli.py that must match the modules."""

import json
import pkgutil
import subprocess
import sys

from conftest import ROOT

import fairdesk.commands
from fairdesk import cli

PROBE = """
import json, sys
from fairdesk.cli import main
code = main(sys.argv[1:])
loaded = sorted(m for m in sys.modules if m.startswith("fairdesk.commands.") or m == "pandas")
print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
"""


def loaded_by(*argv):
    r = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    return json.loads(r.stderr.strip().splitlines()[-1]), r.stdout


def test_the_lazy_table_is_what_the_modules_register():
    modules = {m.name for m in pkgutil.iter_modules(fairdesk.commands.__path__)}
    assert modules == set(cli.LAZY_COMMANDS)
    cli._load_command_modules()
    for name, help_text in cli.LAZY_COMMANDS.items():
        assert cli.SUBCOMMANDS[name][0] == help_text, name
        assert cli.SUBCOMMANDS[name][1].__module__ == f"fairdesk.commands.{name}"
    assert cli.command_names() == set(cli.SUBCOMMANDS)


def test_help_lists_every_command_without_importing_them():
    out, text = loaded_by("--help")
    assert out == {"code": 0, "loaded": []}
    for name in cli.command_names():
        assert f"    {name}" in text, name


def test_a_command_imports_only_its_own_module():
    out, text = loaded_by("eodds", "--help")
    assert out["code"] == 0 and "--family" in text
    assert [m for m in out["loaded"] if m.startswith("fairdesk.commands.")] == \
        ["fairdesk.commands.eodds"]
    out, _ = loaded_by("audit", "--help")
    assert out == {"code": 0, "loaded": []}


def test_full_parser_still_has_every_command_with_its_options():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) == cli.command_names()
    for name, p in sub.choices.items():
        assert "data" in {a.dest for a in p._actions}, name  # set up, not only listed
