"""``cnnbench models list [PATTERN]`` and ``cnnbench models show NAME``."""

from __future__ import annotations

import argparse
import sys

from . import describe, get_spec, list_archs
from .recipe import UNIFORM_RECIPE, Recipe


def _table(headers: list[str], rows: list[list], align: str) -> str:
    """A plain text table; ``align`` has one 'l' or 'r' per column."""
    cells = [[str(c) for c in row] for row in [headers, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def fmt(row):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(row, widths, align, strict=False)).rstrip()

    lines = [fmt(cells[0]), "  ".join("-" * w for w in widths)]
    return "\n".join(lines + [fmt(r) for r in cells[1:]])


def _ints(xs) -> str:
    return ",".join(str(x) for x in xs) or "-"


def cmd_list(pattern: str) -> int:
    names = list_archs(pattern)
    if not names:
        print(f"no architecture matches {pattern!r}", file=sys.stderr)
        return 1
    rows = []
    for n in names:
        d = describe(n)
        rows.append([n, d["family"], d["depth"], _ints(d["kernel_sizes"]), _ints(d["strides"]),
                     f"{d['params']:,}", f"{d['flops_per_image'] / 1e6:.2f}", d["receptive_field"]])
    print(_table(["name", "family", "convs", "kernels", "strides", "params", "MFLOPs/img", "RF"],
                 rows, "llrllrrr"))
    print(f"\n{len(names)} architectures")
    return 0


def cmd_show(name: str) -> int:
    d = describe(name)
    rows = [[f"{lay['index']}", lay["desc"], "×".join(map(str, lay["out_shape"])),
             f"{lay['params']:,}", f"{lay['flops'] / 1e6:.3f}", lay["rf"]] for lay in d["layers"]]
    print(f"{name}  ({d['family']}; input {'×'.join(map(str, d['input_shape']))})")
    if d["description"]:
        print(d["description"])
    print()
    print(_table(["#", "layer", "output", "params", "MFLOPs", "RF"], rows, "rllrrr"))
    print(f"\nTotal params: {d['params']:,}")
    print(f"Forward MFLOPs/img: {d['flops_per_image'] / 1e6:.3f}   "
          f"training step MFLOPs/img: {d['train_flops_per_image'] / 1e6:.3f}")
    print(f"Receptive field: {d['receptive_field']} px   "
          f"activations: {d['activation_bytes_per_image'] / 1024:.1f} KiB/img (fp32)")
    print()
    print("\n".join(recipe_lines(get_spec(name).recipe)))
    if d["reported"]:
        print()
        print("\n".join(reported_lines(d["reported"])))
    return 0


def recipe_lines(r: Recipe) -> list[str]:
    """The recipe (``--recipe seed``) in words, every field."""
    momentum = f", momentum {r.momentum}" if r.optimizer == "sgd" else ""
    which = "the uniform one" if r == UNIFORM_RECIPE else "the study's"
    return [
        f"Recipe under --recipe seed ({which}): {r.optimizer} lr {r.lr}{momentum}, "
        f"{r.epochs} epochs, loss {r.loss}, normalize {r.normalize}",
        f"  batch {r.batch_size} (drop_last {r.drop_last}), eval batch {r.eval_batch_size}",
        f"  validation split held out: {'yes' if r.holdout_val else 'no'}; evaluation: "
        f"{r.eval_text()}; per-step metrics: {', '.join(r.batch_metrics) or 'none'}",
        f"  random seed {r.seed} (unless --seed is given; repeat k adds k)",
        *(f"  deviation: {note}" for note in r.notes),
    ]


def reported_lines(rep: dict) -> list[str]:
    """The figures the study printed, from ``describe()["reported"]``."""
    lines = [f"Reported by the study (on {rep['dataset']}, {rep['recipe']} recipe):"]
    if rep["test_accuracy"] is not None:
        low, high = rep["accuracy_range"]
        bound, close = ("lower bound", ")") if rep["lower_bound"] else ("rounded", "]")
        lines.append(f"  test accuracy {100 * rep['test_accuracy']:g}% ({bound}: true value in "
                     f"[{100 * low:g}, {100 * high:g}{close} %), printed as {rep['printed_as']}")
    if rep["eval_accuracy"]:
        lines.append("  test accuracy by iteration: " + ", ".join(
            f"{i}: {100 * a:g}%" for i, a in rep["eval_accuracy"]))
    if rep["step_losses"]:
        lines.append("  training loss by iteration: " + ", ".join(
            f"{i}: {loss:.4g}" for i, loss in rep["step_losses"]))
    if rep["epoch_losses"]:
        lines.append("  last-batch loss by epoch: " + ", ".join(
            f"{loss:.4g}" for loss in rep["epoch_losses"]))
    if rep["timing"]:
        t = rep["timing"]
        lines.append(f"  {t['iterations']} iterations in {t['seconds']:g} s on {t['device']}"
                     f" ({t['printed_as']})")
    if rep["note"]:
        lines.append(f"  note: {rep['note']}")
    return lines


def main(argv: list[str] | None = None, prog: str = "cnnbench models") -> int:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_list = sub.add_parser("list", help="one row per registered architecture")
    p_list.add_argument("pattern", nargs="?", default="*", help="shell-style, e.g. 'seed*'")
    p_show = sub.add_parser("show", help="per-layer table of one architecture")
    p_show.add_argument("name", help="a registered architecture, e.g. seed000_net0")
    args = parser.parse_args(argv)
    try:
        return cmd_list(args.pattern) if args.cmd == "list" else cmd_show(args.name)
    except (KeyError, ValueError) as e:
        print(f"error: {e.args[0] if e.args else e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
