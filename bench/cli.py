"""``cnnbench``: the one command for the suite, its reports and its architectures.

    cnnbench run [--profile quick] [-- pytest args]     the suite, then the HTML report
    cnnbench report RUN... -o report.html               a page from saved runs
    cnnbench compare BASE NEW [--html PATH]             per-case changes; exit 1 on regression
    cnnbench table RUN...                               the per-case Markdown table
    cnnbench models list [PATTERN] | show NAME          the registered architectures
    cnnbench nightly [--profile standard]               run, keep history, compare, fail loudly

Each subcommand is the ``main(argv, prog)`` of the module that owns it (``cnnbench.bench``,
``cnnbench.reports``, ``cnnbench.models``, ``cnnbench.bench.nightly``), called as a library and
imported only when chosen, so ``cnnbench report`` and ``compare`` run without torch.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    module: str  # whose ``main(argv)`` runs it
    prefix: tuple[str, ...]  # arguments put before the user's (a subcommand of that main)
    help: str
    pytest_args: bool = False  # takes pass-through pytest arguments after ``--``


COMMANDS = {
    "run": Command("cnnbench.bench.__main__", (),
                   "run the suite with a profile, then build the report", pytest_args=True),
    "report": Command("cnnbench.reports.__main__", ("build",),
                      "write the HTML report from saved runs"),
    "compare": Command("cnnbench.reports.__main__", ("compare",),
                       "per-case changes between two runs; exit 1 on a regression"),
    "table": Command("cnnbench.reports.__main__", ("table",),
                     "print the per-case Markdown table"),
    "models": Command("cnnbench.models.__main__", (),
                      "list the architectures or show one (list/show)"),
    "nightly": Command("cnnbench.bench.nightly", (),
                       "run the nightly profile, keep history, compare", pytest_args=True),
}

PYTEST_HINT = ("cnnbench: pytest options (e.g. --epochs 1, -k seed00) go after `--`: "
               "cnnbench {name} --profile quick -- --epochs 1")


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = ["usage: cnnbench COMMAND [ARGS...]   (cnnbench COMMAND --help for its options)",
             "       cnnbench --version", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {c.help}" for name, c in COMMANDS.items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0 if argv else 2
    if argv[0] == "--version":
        from cnnbench import __version__

        print(f"cnnbench {__version__}")
        return 0
    name, rest = argv[0], argv[1:]
    command = COMMANDS.get(name)
    if command is None:
        print(f"cnnbench: unknown command {name!r}\n\n{usage()}", file=sys.stderr)
        return 2
    entry = importlib.import_module(command.module).main
    try:
        return entry([*command.prefix, *rest], prog=f"cnnbench {name}")
    except SystemExit as e:  # argparse: --help exits 0, a usage error exits 2
        if e.code == 2 and command.pytest_args and "--" not in rest:
            print(PYTEST_HINT.format(name=name), file=sys.stderr)
        return e.code if isinstance(e.code, int) else 1


if __name__ == "__main__":
    sys.exit(main())
