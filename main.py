"""FairDesk entry point.

``python main.py``                 opens the application
``python main.py FILE``            opens the application on a data file or a .fairdesk project
``python main.py COMMAND …``       runs a command-line subcommand (``python main.py --help``)
"""

import sys


def ensure_streams() -> None:
    """The windowed program (FairDesk.exe, built with console=False) starts with
    ``sys.stdout`` and ``sys.stderr`` set to None: anything that writes to them (argparse's
    help, the self-test, a message) would raise. They become the null device."""
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))


def main(argv=None) -> int:
    ensure_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--selftest"]:
        from fairdesk.gui.selftest_window import window_check
        from fairdesk.selftest import run
        return run(extra_checks=[("window (offscreen)", window_check)])
    from fairdesk.cli import command_names, main as cli_main

    if argv and (argv[0] in command_names() or argv[0] in ("-h", "--help", "--version")):
        return cli_main(argv)
    try:
        from fairdesk.gui.app import run_app
    except ImportError:  # the numeric core works without the GUI installed
        sys.stderr.write("The FairDesk window is not available here; use a subcommand "
                         "(python main.py --help).\n")
        return cli_main(["--help"]) or 2
    return run_app(argv)


if __name__ == "__main__":
    import multiprocessing

    multiprocessing.freeze_support()  # worker processes of a frozen (bundled) FairDesk
    raise SystemExit(main())
