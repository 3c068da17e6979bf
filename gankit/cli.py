"""The ``gankit`` command line. The only module that prints.

Every user error (``GankitError``) becomes one line on stderr and exit code 2.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path

import numpy as np

from gankit.api import MAX_SAMPLE_FILE
from gankit.config import MAX_SAMPLES
from gankit.errors import GankitError
from gankit.io import atomic_write


# ------------------------------------------------------------------ helpers
def _open_out(path: Path, overwrite: bool) -> Path:
    path = Path(path)
    if path.exists() and not overwrite:
        raise GankitError(f"output file {path} already exists; pass --overwrite to replace it")
    if not path.parent.exists():
        raise GankitError(f"output directory {path.parent} does not exist")
    return path


def _shown(value, digits: int = 4):
    """Metrics as printed: floats to ``digits`` significant digits (files keep full precision)."""
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: _shown(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(v, digits) for v in value]
    return value


def _run_dir(text: str) -> Path:
    """The run a RUN argument means (``runlist.resolve_run``): a run directory; ``runs/PRESET``,
    its newest run; ``latest``, the newest under ``runs/``; else one line of what is there."""
    from gankit.runlist import resolve_run

    return resolve_run(text)


# ------------------------------------------------------------------ commands
def cmd_list(args) -> int:
    import dataclasses

    from gankit.catalogue import load_all
    from gankit.config import preset_description, preset_names, read_preset
    from gankit.registry import DATASETS, MODELS, NETS, OBJECTIVES

    load_all()
    show_all = not (args.presets or args.nets or args.datasets or args.objectives or args.families)
    if show_all or args.presets:
        print("presets:")
        for name in preset_names():
            raw = read_preset(name)
            print(f"  {name:28s} {raw.get('model', {}).get('family', 'gan'):10s} net={raw.get('net', {}).get('name', '?')} data={raw.get('data', {}).get('name', 'mnist')}")
            print(f"  {'':28s} {preset_description(name, width=90)}")
    if show_all or args.nets:
        from gankit.nets import describe

        print("nets:")
        for row in describe():
            g, d = ("-" if n is None else f"{n:,d}" for n in (row["g_params"], row["d_params"]))
            print(f"  {row['name']:22s} G {g:>10s}  D {d:>10s}  {row['input_shape'] or ''}  {row['doc']}")
    if show_all or args.datasets:
        print("datasets:")
        for name in DATASETS.names():
            print(f"  {name:22s} {DATASETS.entry(name).doc}")
    if show_all or args.objectives:
        print("objectives:")
        for name in OBJECTIVES.names():
            entry = OBJECTIVES.entry(name)
            keys = [f.name for f in dataclasses.fields(entry.options) if f.name != "name"] if entry.options else []
            print(f"  {name:22s} {entry.doc}")
            print(f"  {'':22s} options: {', '.join('objective.' + k for k in keys) or 'none'}")
    if show_all or args.families:
        print("model families:")
        for name in MODELS.names():
            print(f"  {name:22s} {MODELS.entry(name).doc}")
    return 0


def _is_main_process() -> bool:
    """False on the ranks other than 0 of a ``torchrun`` job: they train but print nothing."""
    import os

    return os.environ.get("RANK", "0") == "0"


class _progress_printer:
    """Progress against whichever budget ends first (steps, seconds, epochs): a tqdm bar on a
    terminal, else one plain line at most every ``every`` seconds (logs and pipes stay readable).
    The loop's notes (the metric classifier trained once) print as their own line; an evaluation
    shows on the bar (and the final one as a line in a log)."""

    def __init__(self, name: str, quiet: bool, every: float = 30.0):
        self.name, self.quiet, self.every = name, quiet, every
        self.bar, self.last, self.start = None, None, None
        self.tty = sys.stderr.isatty()

    def _line(self, text: str) -> None:
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def _open_bar(self):
        if self.bar is None:  # opened on the first log: an early error stays one line
            from tqdm import tqdm

            self.bar = tqdm(total=1000, desc=self.name, dynamic_ncols=True)
        return self.bar

    def _show(self, p, info: str) -> None:
        bar = self._open_bar()
        bar.bar_format = "{desc}: {percentage:3.0f}%|{bar}| " + info.replace("{", "(").replace("}", ")")
        bar.n = round(1000 * p.done)
        bar.refresh()

    def __call__(self, p) -> None:
        import time

        if self.quiet:
            return
        if p.stage == "note":
            self._line(f"{self.name}: {p.note}")
            return
        if p.stage == "evaluate":
            if self.tty:
                self._show(p, f"step {p.step}, {_clock(p.elapsed)} elapsed, {p.note}")
            elif p.done >= 1.0:
                self._line(f"{self.name}: step {p.step}, {p.note}")
            return
        now = time.monotonic()
        if self.start is None:  # the steps before the first log (or a resume) are not in the rate
            self.start, self.done0 = now, p.done
        rate = (p.done - self.done0) / max(now - self.start, 1e-9)
        eta = (1 - p.done) / rate if rate > 0 else None
        shown = {k: f"{v:.3g}" for k, v in list(p.losses.items())[:4]}
        if self.tty:
            self._show(p, f"step {p.step}, {_clock(p.elapsed)} elapsed, ETA {_clock(eta)}, "
                       + ", ".join(f"{k}={v}" for k, v in shown.items()) + f", {p.images_per_s:.0f} img/s")
        elif self.last is None or now - self.last >= self.every or p.done >= 1.0:
            self.last = now
            print(f"{self.name}: step {p.step} ({100 * p.done:.0f}%), {_clock(p.elapsed)} elapsed, ETA {_clock(eta)}, "
                  + " ".join(f"{k}={v}" for k, v in shown.items()) + f" {p.images_per_s:.0f} img/s",
                  file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


def cmd_train(args) -> int:
    from gankit.api import prepare
    from gankit.training.distributed import env_world_size
    from gankit.training.loop import train

    if args.preset and "=" in args.preset and not args.preset.endswith((".yaml", ".yml")):
        args.overrides.insert(0, args.preset)  # `train --resume RUN key=value`: no preset given
        args.preset = None
    if args.resume == "auto":  # torchrun --max-restarts: the same command line resumes DIR or starts it
        if not args.out or not args.preset:
            raise GankitError("--resume auto needs a preset and --out DIR (resumed if it is a run, else started)")
        cfg, run_dir = prepare(args.preset, args.out, args.overrides)
    else:
        if args.resume:
            args.resume = str(_run_dir(args.resume))
        if args.resume and args.out and Path(args.out) != Path(args.resume):
            raise GankitError("--out and --resume name different run directories; --resume continues RUN in place")
        cfg, run_dir = prepare(args.preset, args.resume or args.out, args.overrides, resume=bool(args.resume))

    main_process = _is_main_process()
    show = _progress_printer(cfg.preset, quiet=args.quiet or not main_process)
    try:
        resume = "auto" if args.resume == "auto" else bool(args.resume)
        result = train(cfg, run_dir, overwrite=args.overwrite, resume=resume, progress=show)
    finally:
        show.close()
    if main_process:
        summary = {k: v for k, v in result.items() if k != "class_hist"}
        print(json.dumps(_shown(summary)))
        print(f"run directory: {run_dir}")
        print(f"  samples: {run_dir / 'samples'}   curves: {run_dir / 'loss.png'}   metrics: {run_dir / 'metrics.jsonl'}")
    if env_world_size() > 1:
        # a torchrun worker whose run is complete on disk: nothing is left for the interpreter's
        # teardown but gloo's threads, which can still abort a process that succeeded
        _end_now(0, exit_hooks=True)
    return 0


def cmd_sample(args) -> int:
    from gankit.api import Run

    labels = args.label if args.label is not None else _parse_labels(args.labels)
    if args.out and Path(args.out).suffix.lower() == ".png":
        # `--out grid.png` means a picture, not a zip archive with a .png name
        if args.png:
            raise GankitError("--out names a .png file and --png is given too: --out writes the .npz arrays")
        args.png, args.out = args.out, None
    out = _open_out(Path(args.out), args.overwrite) if args.out else None
    png = _open_out(Path(args.png), args.overwrite) if args.png else None
    if out is not None and png is not None and out.resolve() == png.resolve():
        raise GankitError(f"--out and --png name the same file {out}")
    if out is None and png is None and not args.show:
        raise GankitError("nothing to write: pass --out FILE.npz, --png FILE.png or --show K")
    written = Run(_run_dir(args.run)).write_samples(out, args.n, args.seed, labels, grid=png, text=args.show)
    if out is not None:
        print(f"wrote {out}: " + ", ".join(f"{k} {np.dtype(d)}{[args.n, *shape]}" for k, (d, shape) in written.arrays.items()))
    if png is not None:
        print(f"wrote {png}")
    if args.show:
        print(written.text)
    return 0


def _parse_labels(text: str | None) -> list[int] | None:
    """``--labels 3,3,7``: the classes, repeated to --n."""
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise GankitError("--labels must be comma-separated integers, e.g. 3,3,7") from None
    if not values:
        raise GankitError("--labels is empty")
    return values


def cmd_eval(args) -> int:
    from gankit.api import Run

    run = Run(_run_dir(args.run))
    result = run.evaluate(args.n, modes=args.modes)
    print(json.dumps(_shown(result)))
    if result.get("kid") is not None:
        print(KID_NOTE, file=sys.stderr)
    return 0


KID_NOTE = ("note: kid is on the scale of the backbone's 128 features, not Inception's 2,048: compare it between "
            "runs on the same backbone only (digits: real vs real about 0 +- 10, noise about 18,000; docs/metrics.md)")


# ------------------------------------------------------------------ runs at hand, presets, export
def cmd_runs(args) -> int:
    from gankit.runlist import RUNS_ROOT, format_runs, list_runs

    runs = list_runs(Path(args.dir) if args.dir else RUNS_ROOT)
    if args.json:
        for r in runs:
            print(json.dumps(r.as_dict()))
    else:
        print(format_runs(runs))
    return 0


def cmd_show(args) -> int:
    from gankit.show import format_show, show

    print(format_show(show(args.preset, args.overrides, steps=args.steps)))
    return 0


def cmd_export(args) -> int:
    from gankit.export import export

    out = _open_out(Path(args.out), args.overwrite)
    w = export(_run_dir(args.run), out, args.format)
    inputs = ", ".join(f"{k} [N, {w['z_dim']}] float32" if k == "z" else f"{k} {w['labels']}" if w.get('label_shape') else f"{k} [N] int64 ({w['labels']})"
                       for k in w["inputs"])
    lo, hi = w["value_range"]
    print(f"wrote {w['path']}: {w['format']}, {w['bytes']:,d} bytes, generator of {w['run']} at step {w['step']}")
    print(f"  inputs: {inputs}; output: images [N, {', '.join(map(str, w['shape']))}] float32 in [{lo:g}, {hi:g}]")
    return 0


def cmd_interpolate(args) -> int:
    from gankit.interpolate import interpolate

    png = _open_out(Path(args.png), args.overwrite)
    gif = _open_out(Path(args.gif), args.overwrite) if args.gif else None
    if gif is not None and gif.resolve() == png.resolve():
        raise GankitError(f"--png and --gif name the same file {png}")
    w = interpolate(_run_dir(args.run), png, gif, rows=args.rows, steps=args.steps, seed=args.seed)
    print(f"wrote {png}: {w['rows']} rows of {w['steps']} images (seed {w['seed']}, step {w['step']} of {w['run']})"
          + (", one class per row" if w["conditional"] else ""))
    if gif is not None:
        print(f"wrote {gif}")
    return 0


# ------------------------------------------------------------------ symbolic autoencoder (gankit sae ...)
def cmd_sae_encode(args) -> int:
    from gankit.reproduce.sae import encode_run

    out = _open_out(Path(args.out), args.overwrite)
    arrays = encode_run(_run_dir(args.run), args.unit)
    atomic_write(out, lambda fh: np.savez(fh, **arrays), what="symbols")
    print(f"wrote {out}: " + ", ".join(f"{k} {v.dtype}{list(v.shape)}" for k, v in arrays.items()))
    return 0


def cmd_sae_probe(args) -> int:
    from gankit.reproduce.sae import probe_run

    def progress(p) -> None:
        if p.stage != "evaluate":
            print(f"baseline dcgan: {p.note if p.stage == 'note' else f'step {p.step}'}", file=sys.stderr, flush=True)

    result = probe_run(_run_dir(args.run), args.labels_per_class, args.seed, args.classifier, args.unit,
                       dcgan=not args.no_dcgan, dcgan_run=_run_dir(args.dcgan) if args.dcgan else None,
                       progress=None if args.quiet else progress)
    print(json.dumps(_shown(result)))
    return 0


def cmd_sae_reconstruct(args) -> int:
    from gankit.reproduce.sae import reconstruction_report

    png = _open_out(Path(args.png), args.overwrite) if args.png else None
    result = reconstruction_report(_run_dir(args.run), png, cols=args.cols, blocks=args.blocks, seed=args.seed)
    print(json.dumps(_shown(result)))
    return 0


def cmd_sae_sphere(args) -> int:
    from gankit.reproduce.sae import sphere_plot

    png = _open_out(Path(args.png), args.overwrite)
    print(json.dumps(_shown(sphere_plot(_run_dir(args.run), png, n=args.n, seed=args.seed))))
    return 0


# ------------------------------------------------------------------ reproductions
def cmd_reproduce(args) -> int:
    from gankit.reproduce import BUDGETS, default_out, export_report, papers, reproduce

    if args.list or not args.paper:
        if not args.list:
            raise GankitError("name a paper (see `gankit reproduce --list`)")
        print(f"{'paper':11s} {'CPU-minutes (' + ' / '.join(BUDGETS) + ')':32s} reproduces")
        for p in papers():
            cost = " / ".join(f"{p.cpu_minutes[b]:g}" for b in BUDGETS)
            print(f"{p.name:11s} {cost:32s} {p.reproduces}")
        return 0

    def progress(msg: str) -> None:
        if not args.quiet:
            print(f"[{args.paper}] {msg}", file=sys.stderr, flush=True)

    out = Path(args.out) if args.out else default_out(args.paper, args.budget)
    only = [o.strip() for o in args.only.split(",") if o.strip()] if args.only else None
    command = "gankit reproduce " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else f"gankit reproduce {args.paper}"
    if args.report_only and args.retrain:
        raise GankitError("--report-only and --retrain contradict each other")
    if args.from_dir and not args.report_only:
        raise GankitError("--from reads the records of finished runs: it needs --report-only")
    report = reproduce(args.paper, args.budget, out, seeds=args.seeds, retrain=args.retrain, only=only,
                       report_only=args.report_only,
                       overrides=args.overrides, data_root=Path(args.data_root) if args.data_root else None,
                       progress=progress, command=command, jobs=args.jobs,
                       from_dir=Path(args.from_dir) if args.from_dir else None)
    for c in report.claims:
        print(f"{c.section:18s} {c.verdict:15s} {c.claim}")
    print(f"report: {out / 'report.md'}  {out / 'report.html'}")
    if args.export:
        print(f"exported: {export_report(out, Path(args.export), args.paper)}")
    return 0


def cmd_compare(args) -> int:
    import time

    from gankit.compare import compare, mean_table, metric_table, parse_budget, spread_lines

    budget = parse_budget(args.budget)
    out = Path(args.out) if args.out else Path("runs") / f"compare-{time.strftime('%Y%m%d-%H%M%S')}"

    def on_start(preset: str, i: int, n: int) -> None:
        if not args.quiet:
            seed = "" if args.seeds > 1 else f" (seed {args.seed})"  # several seeds: the name carries it
            print(f"[{i + 1}/{n}] training {preset} for {budget}{seed}", file=sys.stderr, flush=True)

    entries = compare(args.presets, budget, out, seed=args.seed, seeds=args.seeds, jobs=args.jobs,
                      overrides=args.set or [], overwrite=args.overwrite, on_start=on_start)
    header, rows = mean_table(entries) if args.seeds > 1 else metric_table(entries)
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(row))
    if args.seeds > 1:
        print("within the seeds' spread: " + ("; ".join(spread_lines(entries)) or "none"))
    print(f"report: {out / 'report.html'}  {out / 'report.md'}")
    return 0


_SPEED_ONLY = (("models", "--models"), ("seconds", "--seconds"), ("set", "--set"), ("no_memory", "--no-memory"),
               ("json", "--json"))
_CURVE_ONLY = (("at", "--at"), ("n", "--n"), ("seed", "--seed"), ("out", "--out"), ("overwrite", "--overwrite"))


def cmd_bench(args) -> int:
    from gankit.bench import bench, format_table, parse_models

    if args.curve is not None or args.from_json is not None:
        return cmd_bench_curve(args)
    given = [flag for dest, flag in _CURVE_ONLY if getattr(args, dest) not in (None, False)]
    if given:
        raise GankitError(f"{given[0]} is an option of gankit bench --curve")
    models = parse_models(args.models)

    def on_row(row) -> None:
        if args.json:
            print(json.dumps(row.to_dict()), flush=True)
        elif not args.quiet:
            print(f"{row.model}: gankit {row.gankit_images_per_s:.0f} img/s, reference "
                  f"{row.reference_images_per_s:.0f} img/s ({row.ratio:.2f}x)", file=sys.stderr, flush=True)

    seconds = 20.0 if args.seconds is None else args.seconds
    rows = bench(models, seconds, args.threads, args.set or [], memory=not args.no_memory, on_row=on_row)
    if not args.json:
        print(format_table(rows))
    return 0


def cmd_bench_curve(args) -> int:
    """``gankit bench --curve``: FID against training seconds (or ``--from``: redraw from curve.json)."""
    from gankit.bench import (CURVE_N, CURVE_PNG, DEFAULT_CURVE_ARMS, curve, draw_curve, format_curve_table,
                              parse_at)

    given = [flag for dest, flag in _SPEED_ONLY if getattr(args, dest) not in (None, False)]
    if given:
        raise GankitError(f"{given[0]} is an option of the speed bench, not of --curve")
    if args.from_json is not None:
        from gankit.report.fid_curve import read_curve

        if args.curve:
            raise GankitError("--from redraws a measured curve: give no arms with it")
        extra = [flag for dest, flag in _CURVE_ONLY if dest not in ("out", "overwrite")
                 and getattr(args, dest) is not None] + (["--threads"] if args.threads is not None else [])
        if extra:
            raise GankitError(f"{extra[0]} does not apply to --from (nothing is measured)")
        record = read_curve(args.from_json)
        out = Path(args.out) if args.out else Path(args.from_json).parent
        png = draw_curve(record, out)
        print(format_curve_table(record))
        print(f"figure: {png}")
        return 0
    if not args.out:
        raise GankitError("gankit bench --curve needs --out DIR (for curve.json and fid-curve.png)")
    arms = list(args.curve) or list(DEFAULT_CURVE_ARMS)
    at = parse_at(args.at)

    def on_start(record) -> None:
        if not args.quiet:
            k = len(record["arms"])
            print(f"training {k} arm{'s' * (k > 1)} interleaved to {at[-1]:g} s of steps each: about "
                  f"{k * at[-1] / 60:.0f} min, plus {k * len(at)} evaluations", file=sys.stderr, flush=True)

    def on_point(runner, p, record) -> None:
        if not args.quiet:
            print(f"{p['arm']}: {p['at']:g} s ({p['seconds']:.1f} s, {p['steps']:,} steps): "
                  f"FID {p['fid']:.2f}, IS {p['is']:.2f}", file=sys.stderr, flush=True)

    n = CURVE_N if args.n is None else args.n
    seed = 0 if args.seed is None else args.seed
    record = curve(arms, args.out, at, args.threads, n, seed, overwrite=args.overwrite, on_start=on_start,
                   on_point=on_point)
    print(format_curve_table(record))
    print(f"figure: {Path(args.out) / CURVE_PNG}  data: {Path(args.out) / 'curve.json'}")
    return 0


# ------------------------------------------------------------------ parser
class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage error as one line and exit code 2."""

    def error(self, message: str):
        self.exit(2, f"gankit: error: {message} (see {self.prog} --help)\n")


def _list_parser(sub) -> None:
    s = sub.add_parser("list", help="presets, nets, datasets, objectives, model families")
    for flag in ("presets", "nets", "datasets", "objectives", "families"):
        s.add_argument(f"--{flag}", action="store_true", help=f"list only the {flag} (combinable; default: everything)")
    s.set_defaults(func=cmd_list)


def _train_parser(sub) -> None:
    s = sub.add_parser("train", help="train a preset: gankit train PRESET [key=value ...]")
    s.add_argument("preset", nargs="?", help="preset name (gankit list --presets) or a YAML file")
    s.add_argument("overrides", nargs="*", help="dotted overrides, e.g. train.steps=2000 optim.g.lr=2e-4")
    s.add_argument("--out", help="run directory (default runs/<preset>/<timestamp>)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    s.add_argument("--resume", metavar="RUN", help="continue an interrupted run from its last checkpoint "
                   "(runs/PRESET: its newest run; latest: the newest); "
                   "'auto' (with --out DIR): resume DIR if it is a run, else start it (torchrun restarts)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_train)


def _sample_parser(sub) -> None:
    s = sub.add_parser("sample", help="draw samples from a trained run")
    s.add_argument("run", help=_RUN_HELP)
    s.add_argument("--n", type=int, default=64, help="number of samples (default 64)")
    s.add_argument("--out", help="write an .npz (images uint8, labels for conditional runs); a .png name writes the grid, as --png")
    s.add_argument("--png", help="write a sample grid PNG")
    s.add_argument("--seed", type=int, default=0, help="noise seed (default 0: the same samples every time)")
    s.add_argument("--label", type=int, help="conditional runs: one class for every sample")
    s.add_argument("--labels", help="conditional runs: comma-separated classes, repeated to --n")
    s.add_argument("--show", type=int, default=0, metavar="K", help="print K samples as text (board runs)")
    s.add_argument("--overwrite", action="store_true", help="replace existing output files")
    s.set_defaults(func=cmd_sample)


def _eval_parser(sub) -> None:
    s = sub.add_parser("eval", help="print one JSON line of metrics for a run")
    s.add_argument("run", help=_RUN_HELP)
    s.add_argument("--n", type=int, help="number of samples (default train.eval_samples)")
    s.add_argument("--modes", action="store_true", help="mnist-stacked runs: add modes_covered (of 1000) and "
                   "modes_kl (PacGAN's numbers use --n 26000)")
    s.set_defaults(func=cmd_eval)


def _sae_parser(sub) -> None:
    group = sub.add_parser("sae", help="symbolic autoencoder runs: encode, probe, reconstruct, sphere")
    sae = group.add_subparsers(dest="sae_command", metavar="{encode,probe,reconstruct,sphere}", required=True,
                               parser_class=_Parser)

    s = sae.add_parser("encode", help="symbols of the whole training set to .npz")
    s.add_argument("run", help="symbolic autoencoder run directory (runs/PRESET, latest: as for sample)")
    s.add_argument("--out", required=True, help="output .npz (symbols float32 [N, m], labels int64 [N])")
    s.add_argument("--unit", type=int, default=1, choices=(0, 1), help="encoder unit (default 1, the generalizing one)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    s.set_defaults(func=cmd_sae_encode)

    s = sae.add_parser("probe", help="few-label probe vs raw pixels and DCGAN features")
    s.add_argument("run", help="symbolic autoencoder run directory (runs/PRESET, latest: as for sample)")
    s.add_argument("--labels-per-class", type=int, default=10, help="labelled training examples per class (default 10)")
    s.add_argument("--seed", type=int, default=0, help="which labelled examples are drawn")
    s.add_argument("--classifier", default="logreg", choices=("logreg", "knn"), help="probe classifier (default logreg)")
    s.add_argument("--unit", type=int, default=1, choices=(0, 1), help="encoder unit (default 1, the generalizing one)")
    s.add_argument("--dcgan", metavar="RUN", help="use this trained gan run as the DCGAN baseline (default: train RUN/baseline-dcgan once)")
    s.add_argument("--no-dcgan", action="store_true", help="skip the DCGAN baseline")
    s.add_argument("--quiet", action="store_true", help="no progress messages")
    s.set_defaults(func=cmd_sae_probe)

    s = sae.add_parser("reconstruct", help="reconstruction grid and class agreement")
    s.add_argument("run", help="symbolic autoencoder run directory (runs/PRESET, latest: as for sample)")
    s.add_argument("--png", help="grid: rows of real images, G(E_0(x)), G(E_1(x))")
    s.add_argument("--cols", type=int, default=10, help="images per row (default 10)")
    s.add_argument("--blocks", type=int, default=3, help="blocks of three rows (default 3)")
    s.add_argument("--seed", type=int, default=0, help="which training images are shown")
    s.add_argument("--overwrite", action="store_true", help="replace an existing PNG")
    s.set_defaults(func=cmd_sae_reconstruct)

    s = sae.add_parser("sphere", help="(m=3) figure 6: symbols on S^2 by digit")
    s.add_argument("run", help="symbolic autoencoder run directory (m = 3)")
    s.add_argument("--png", required=True, help="output figure")
    s.add_argument("--n", type=int, default=2000, help="number of training images to plot")
    s.add_argument("--seed", type=int, default=0, help="which training images are plotted")
    s.add_argument("--overwrite", action="store_true", help="replace an existing PNG")
    s.set_defaults(func=cmd_sae_sphere)


def _bench_parser(sub) -> None:
    s = sub.add_parser("bench", help="time gankit's trainer against the textbook PyTorch loop (benchmarks/reference.py)")
    s.add_argument("--models", help="comma-separated presets (default dcgan-mnist,wgangp-mnist,cdcgan-mnist-demo)")
    s.add_argument("--seconds", type=float, help="timed seconds per model, split between the two loops (default 20)")
    s.add_argument("--threads", type=int, help="torch threads for both loops (default: all cores)")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="config override for both loops (repeatable)")
    s.add_argument("--no-memory", action="store_true", help="skip the peak-memory probes (two short subprocesses per model)")
    s.add_argument("--json", action="store_true", help="one JSON line per model instead of the table")
    s.add_argument("--quiet", action="store_true", help="no progress messages")
    s.add_argument("--curve", nargs="*", metavar="ARM",
                   help="instead: FID against training seconds, the arms trained interleaved; each ARM one quoted "
                        "'PRESET key=value ...' (gankit's trainer, the preset's full recipe) or "
                        "'reference:PRESET key=value ...' (the textbook loop on the preset's nets); default: "
                        "gan-mnist-fast, binarygan-mnist-fast and the textbook loop on gan-mnist-fast's nets")
    s.add_argument("--at", help="(--curve) checkpoints, seconds of each arm's own training (default 30,60,120,300,600)")
    s.add_argument("--n", type=int, help="(--curve) samples per evaluation (default 2000)")
    s.add_argument("--seed", type=int, help="(--curve) every arm's train.seed (default 0)")
    s.add_argument("--out", help="(--curve) folder for curve.json and fid-curve.png; with --from: where the figure "
                                 "goes (default: beside the JSON)")
    s.add_argument("--from", dest="from_json", metavar="CURVE_JSON",
                   help="(--curve) redraw fid-curve.png and print the table from a curve.json, without training")
    s.add_argument("--overwrite", action="store_true", help="(--curve) replace an existing DIR/curve.json")
    s.set_defaults(func=cmd_bench)


def _compare_parser(sub) -> None:
    s = sub.add_parser("compare", help="train presets for the same budget and seed; side-by-side report")
    s.add_argument("presets", nargs="+", help="preset names (or YAML files)")
    s.add_argument("--budget", default="300s", help="per preset: 300s, 5m, 1h or 2000steps (default 300s)")
    s.add_argument("--seed", type=int, default=0, help="train.seed of every run (default 0); the first of --seeds")
    s.add_argument("--seeds", type=int, default=1, help="train each preset on K seeds (seed .. seed+K-1): the report "
                   "gives mean and spread, and which differences lie within the spread (default 1)")
    s.add_argument("--jobs", type=int, default=1, help="runs trained at a time, each on its share of the cores (default 1)")
    s.add_argument("--set", action="append", metavar="KEY=VALUE", help="override for every preset (repeatable)")
    s.add_argument("--out", help="report directory (default runs/compare-<timestamp>)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing report directory")
    s.add_argument("--quiet", action="store_true", help="no progress messages")
    s.set_defaults(func=cmd_compare)


def _reproduce_parser(sub) -> None:
    s = sub.add_parser("reproduce", help="train what a paper's figures and claims need; report with verdicts")
    s.add_argument("paper", nargs="?", help="digit-gans, binarygan, guide, dwgan or sae (see --list)")
    s.add_argument("overrides", nargs="*", help="overrides for every run, e.g. train.threads=1")
    s.add_argument("--list", action="store_true", help="list the papers, what each reproduces and its CPU time")
    s.add_argument("--budget", default="paper", choices=("paper", "short", "smoke"),
                   help="paper: the paper's own schedule; short: about 30 CPU-minutes; smoke: a few steps per run")
    s.add_argument("--out", help="directory of the runs and the report (default runs/reproduce/PAPER/BUDGET)")
    s.add_argument("--seeds", type=int, help="seeds per run (default: the paper's own, e.g. 3 for guide)")
    s.add_argument("--only", help="comma-separated presets to train (the others' rows say 'not run')")
    s.add_argument("--data-root", help="directory with optional dataset files (SVHN train_32x32.mat)")
    s.add_argument("--retrain", action="store_true", help="train again even where a finished run of the same config exists")
    s.add_argument("--report-only", action="store_true",
                   help="train nothing: report the runs in --out as they stand (unfinished ones too)")
    s.add_argument("--export", metavar="DOCS_DIR", help="also copy the report to DOCS_DIR/PAPER.md with its images")
    s.add_argument("--jobs", type=int, default=1, help="runs trained at a time, each on its share of the cores (default 1)")
    s.add_argument("--from", dest="from_dir", metavar="DIR", help="with --report-only: judge the records under "
                   "DIR/PAPER/runs/ (e.g. committed ones) instead of --out's runs")
    s.add_argument("--quiet", action="store_true", help="no progress lines")
    s.set_defaults(func=cmd_reproduce)


def _runs_parser(sub) -> None:
    s = sub.add_parser("runs", help="list the runs under runs/ (or DIR): preset, step/budget, state, IS, FID, age")
    s.add_argument("dir", nargs="?", help="folder to list (default runs)")
    s.add_argument("--json", action="store_true", help="one JSON object per run instead of the table")
    s.set_defaults(func=cmd_runs)


def _show_parser(sub) -> None:
    s = sub.add_parser("show", help="a preset before training it: config, parameter counts, data, pace here")
    s.add_argument("preset", help="preset name (gankit list --presets) or a YAML file")
    s.add_argument("overrides", nargs="*", help="dotted overrides, as for gankit train")
    s.add_argument("--steps", type=int, default=3, help="training steps timed for the pace (default 3; 0: none)")
    s.set_defaults(func=cmd_show)


def _export_parser(sub) -> None:
    s = sub.add_parser("export", help="write a run's generator as ONNX, TorchScript or torch.export to use elsewhere")
    s.add_argument("run", help=_RUN_HELP)
    s.add_argument("--out", required=True, help="file to write: .onnx, .pt (torchscript) or .pt2 (torch.export)")
    s.add_argument("--format", choices=("onnx", "torchscript", "torch.export"), help="default: from the --out suffix")
    s.add_argument("--overwrite", action="store_true", help="replace an existing file")
    s.set_defaults(func=cmd_export)


def _interpolate_parser(sub) -> None:
    s = sub.add_parser("interpolate", help="rows of spherical interpolations between random latents (PNG, GIF)")
    s.add_argument("run", help=_RUN_HELP)
    s.add_argument("--png", required=True, help="the grid: one row per walk")
    s.add_argument("--gif", help="also an animation of the walks")
    s.add_argument("--rows", type=int, default=8, help="walks (default 8; conditional runs: row i is class i mod K)")
    s.add_argument("--steps", type=int, default=10, help="images per walk, both ends included (default 10)")
    s.add_argument("--seed", type=int, default=0, help="which latents are drawn (default 0)")
    s.add_argument("--overwrite", action="store_true", help="replace existing output files")
    s.set_defaults(func=cmd_interpolate)


_RUN_HELP = "run directory; runs/PRESET: its newest run; latest: the newest run under runs/"

COMMANDS = [_list_parser, _show_parser, _train_parser, _runs_parser, _sample_parser, _eval_parser,
            _export_parser, _interpolate_parser, _sae_parser, _bench_parser, _compare_parser, _reproduce_parser]


def build_parser() -> argparse.ArgumentParser:
    from gankit import __version__

    p = _Parser(prog="gankit", description="Train, sample, evaluate and compare GANs.")
    p.add_argument("--version", action="version", version=f"gankit {__version__}", help="print the version and exit")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMANDS:
        add(sub)
    return p


# ------------------------------------------------------------------ count options
_SAMPLES = "the number of samples (--n)"
# every count option of every command: (what the error calls it, lowest, highest or None for
# no bound here; a library check may still refuse a count too large for the run, e.g. eval's
# memory). All are checked in one place, ``_check_counts``, before the command runs.
COUNTS = {
    cmd_sample: {"n": (_SAMPLES, 1, MAX_SAMPLE_FILE), "show": ("--show", 0, 10**6)},
    cmd_eval: {"n": (_SAMPLES, 1, MAX_SAMPLES)},
    cmd_sae_probe: {"labels_per_class": ("--labels-per-class", 1, None)},
    cmd_sae_reconstruct: {"cols": ("--cols", 1, 1000), "blocks": ("--blocks", 1, 1000)},
    cmd_sae_sphere: {"n": ("--n", 1, MAX_SAMPLES)},
    cmd_bench: {"seconds": ("--seconds", 0.1, 86400.0), "threads": ("--threads", 1, 4096),
                "n": ("--n", 2, MAX_SAMPLES)},
    cmd_reproduce: {"seeds": ("--seeds", 1, None), "jobs": ("--jobs", 1, 1024)},
    cmd_compare: {"seeds": ("--seeds", 1, 1000), "jobs": ("--jobs", 1, 1024)},
    cmd_show: {"steps": ("--steps", 0, 100)},
    cmd_interpolate: {"rows": ("--rows", 1, 64), "steps": ("--steps", 2, 64)},  # interpolate.MAX_ROWS, MAX_STEPS
}


def _check_counts(args) -> None:
    """One error line for a count option out of its range (``COUNTS``); None is its default."""
    for dest, (what, lo, hi) in COUNTS.get(args.func, {}).items():
        value = getattr(args, dest)
        if value is None or (lo <= value and (hi is None or value <= hi)):  # NaN fails both
            continue
        if hi is None:
            raise GankitError(f"{what} must be >= {lo:,}, got {value}")
        raise GankitError(f"{what} must lie in {lo:,}..{hi:,}, got {value}")


class _Terminated(BaseException):
    """SIGTERM (``kill``, or ``torchrun`` ending the survivors of a dead rank): unwinds like Ctrl-C,
    so open temporary files are removed and the run lock released before the process ends."""


_exiting = [False]  # set once main reports how it ends: a later SIGTERM only ends the process


def _on_sigterm(signum, frame) -> None:
    if not _exiting[0]:
        _exiting[0] = True
        raise _Terminated()


def _catch_sigterm():
    """Install ``_on_sigterm`` (main thread only); returns the handler it replaced, or None."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None
    _exiting[0] = False
    return signal.signal(signal.SIGTERM, _on_sigterm)


def _end_now(code: int, exit_hooks: bool = False) -> None:
    """End this torchrun worker at once, skipping C++ destructors (see ``LostContact``): the
    process group's threads would otherwise abort it after its one line. ``exit_hooks``: run
    Python's ``atexit`` functions first (a finished run; a broken group's worker skips them)."""
    if exit_hooks:
        import atexit

        atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    import signal

    previous = _catch_sigterm()
    try:
        return _main(argv)
    except _Terminated:
        _exiting[0] = True
        print("gankit: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:  # `gankit list | head`: the reader left; not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that Python's exit flush does not raise again
        return 0
    finally:
        _exiting[0] = True
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main(argv: list[str] | None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # argparse stops collecting `overrides` at the first option, so
    # `gankit train PRESET --out DIR k=v` would leave k=v unclaimed: claim it here
    if extra and hasattr(args, "overrides") and all("=" in a and not a.startswith("-") for a in extra):
        args.overrides = list(args.overrides) + extra
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        _check_counts(args)
        return args.func(args)
    except GankitError as exc:
        _exiting[0] = True  # a SIGTERM now (torchrun ending this rank) must not cut the line short
        from gankit.training.distributed import LostContact, PeerError

        if not isinstance(exc, PeerError):  # rank 0 of a torchrun job reports it
            text = " ".join(str(exc).split())[:2000]  # one line, whatever the message held
            print(f"gankit: error: {text}", file=sys.stderr)
        if isinstance(exc, LostContact):  # the run lock and logs are closed by now (train's finally)
            _end_now(2)
        return 2
    except KeyboardInterrupt:
        _exiting[0] = True
        print("gankit: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
