"""Builds the article "Experiments in Handwriting with a Neural Network" into site/.

One command turns a handwriting model (Graves 2013, section 4.2) and some handwriting into a
folder of static files that any static host serves as it is: the article (Jinja2 templates),
its figures (generator/figures/), the model exported for TensorFlow.js and the browser
libraries it needs. A rebuild of the Distill article by Carter, Ha, Johnson and Olah (2016).

    python build.py [build] [--weights default|distill|PATH] [--writer writer|PATH|none] [--data SRC]
                    [--out DIR] [--seed N] [--source-url URL] [--edition FILE]
    python build.py serve [--port N] [--weights ...]   serve site/ on 127.0.0.1 and rebuild on
        changes, with the options site/ was built with unless given others

The build is atomic (made in a folder beside the output and swapped in at the end, so a
failed or killed build leaves the previous site) and deterministic (same inputs and seed,
byte-identical site; the page's dates are the edition's, given in edition.json, never the
clock's). It caches in .cache/ the expensive precomputes and, whole, what the page takes from
the model (model_stage), keyed by the bytes of its inputs and code (stage_key): a build after a
template edit renders the page without importing TensorFlow, in under a second.
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import errno
import json
import os
import shutil
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

from model.base import (
    CONFIG_FILE,
    MODELS_DIR,
    ArgumentParser,
    UserError,
    cause,
    distill_dir,
    locked,
    not_new,
    ranged,
    run_cli,
    seed_argument,
    shown_name,
    way_out,
)

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

REPO_ROOT = Path(__file__).resolve().parent
BUILD_FILE = "build.json"
EDITION_FILE = REPO_ROOT / "edition.json"


@dataclass
class BuildConfig:
    """The build's settings; saved as site/build.json (paths reduced to names, no times)."""

    weights: str = "default"
    writer: str = "writer"  # the text model of the write-anything figure: a folder, or "none"
    data: str | None = None  # None: the shared human lines when present, else synthetic lines
    seed: int = 0
    out: str = "site"
    cache: str = ".cache"
    source_url: str = ""  # the repository the page links to as its source; "": no link
    edition: str = ""  # this edition's byline, dates and contributions (load_edition); "": EDITION_FILE


class BuildError(UserError):
    """Bad input to the build."""


def load_edition(path: str | Path) -> dict:
    """The edition's apparatus, as the page shows it: its authors (name, affiliation, url), the
    dates it was published and updated (YYYY-MM-DD, given, so that builds stay byte-identical),
    its url for citations ("": none), its authors' contributions, and the same of the original
    article under "original" (its doi too). Every problem is one line naming the file."""
    name = shown_name(str(path))
    try:
        edition = json.loads(Path(path).read_text())
    except OSError as error:
        raise BuildError(f"--edition {name}: cannot read it ({cause(error)}); give the edition's settings "
                         "file (see edition.json)") from None
    except json.JSONDecodeError as error:
        raise BuildError(f"--edition {name}: not JSON ({error.msg}, line {error.lineno}); see edition.json") from None

    def check(part: object, where: str, dated: tuple[str, ...]) -> dict:
        if not isinstance(part, dict):
            raise BuildError(f"--edition {name}: {where.rstrip('.') or 'the file'} must be an object with authors, "
                             "published, url and contributions; see edition.json")
        authors = part.get("authors")
        if not isinstance(authors, list) or not authors or not all(
                isinstance(author, dict) and isinstance(author.get("name"), str) and author["name"].strip()
                for author in authors):
            raise BuildError(f"--edition {name}: {where}authors must be a list of at least one "
                             '{"name": ..., "affiliation": ..., "url": ...}')
        for key in dated:
            try:
                date.fromisoformat(str(part.get(key)))
            except ValueError:
                raise BuildError(f"--edition {name}: {where}{key} is {part.get(key)!r}; give a date as YYYY-MM-DD") \
                    from None
        return {**part, "authors": [{"affiliation": "", "url": "", **author} for author in authors],
                "url": part.get("url") or "", "contributions": part.get("contributions") or ""}

    checked = check(edition, "", ("published", "updated"))
    if checked["updated"] < checked["published"]:
        raise BuildError(f"--edition {name}: updated ({checked['updated']}) is before published "
                         f"({checked['published']})")
    return {**checked, "original": check(edition.get("original"), "original.", ("published",))}


def _default_data() -> str:
    return "distill" if (distill_dir() / "validation-data").is_dir() else "synthetic:16"


def load_inputs(config: BuildConfig, say=print):
    """The lines shown by the figures, then the model (weights.pretrained) and the writer
    (load_writer): bad lines are reported before TensorFlow is even imported."""
    from model import data

    lines = data.load(config.data or _default_data())
    if not lines:
        raise BuildError(f"--data {config.data}: no lines found; give a folder of JSON lines, IAM XML or 'synthetic'")
    from model import weights  # imports TensorFlow: only once the lines are known to be good

    artefact = weights.pretrained(config.weights, text=False)
    about = {**artefact.about, "metrics": artefact.metrics} if artefact.metrics else artefact.about  # the card's curve
    return artefact.model, artefact.config, about, lines, load_writer(config.writer, say)


def load_writer(spec: str, say=print):
    """The text model the write-anything figure runs (a generator.figures.TextModel), or None
    when `spec` is 'none' or the committed writer (models/writer/) is not there: then the
    section is left out, and the build says so in one line."""
    from generator.figures import TextModel
    from model import weights

    folder = weights.artefact_folder(spec)
    if spec == "none" or (spec == "writer" and not (folder / CONFIG_FILE).is_file()):
        say("write-anything: left out (" + ("--writer none" if spec == "none" else
            f"no text model in {shown_name(str(folder))}/; give one with --writer FOLDER") + ")")
        return None
    artefact = weights.pretrained(spec, "--writer", text=True)
    # model.train's settings name what the page says the model learned from; its metrics, the
    # longest line it learned, which the article names and the figure's rows keep within
    return TextModel(model=artefact.model, alphabet=artefact.alphabet,
                     about={**artefact.about, "metrics": artefact.metrics}, trained_on=artefact.train.get("data", ""))


def _refuse_foreign(out: Path) -> None:
    """Never replace what isn't a built site (an empty folder is fine)."""
    if (why := not_new(out)) and not (out / BUILD_FILE).is_file():
        raise BuildError(f"--out {out}: {why}, not a site made by build.py; "
                         "choose a new folder or remove it yourself")


def _prepare_output(out: Path) -> Path:
    """The folder to build into, beside `out`."""
    _refuse_foreign(out)
    previous = out.with_name(out.name + ".previous")
    if previous.is_dir() and not out.exists():  # killed between the two renames of a swap
        previous.rename(out)
    building = out.with_name(out.name + ".building")
    shutil.rmtree(building, ignore_errors=True)  # what a killed build left behind
    shutil.rmtree(previous, ignore_errors=True)
    building.mkdir(parents=True)
    return building


def _swap_in(building: Path, out: Path) -> None:
    previous = out.with_name(out.name + ".previous")
    if out.exists():
        out.rename(previous)
    building.rename(out)
    shutil.rmtree(previous, ignore_errors=True)


# What the model's stages run besides their inputs: the project's code and committed models, and
# the pinned Node packages that draw the charts. Not templates/: the page is rendered afresh.
STAGE_CODE = [REPO_ROOT / "model", MODELS_DIR / "default", MODELS_DIR / "writer", REPO_ROOT / "generator",
              REPO_ROOT / "build.py", REPO_ROOT / "package-lock.json"]


def stage_key(config: BuildConfig) -> str:
    """Everything model_stage's result depends on, known from file bytes alone (no TensorFlow, no
    parsing, milliseconds): the options (local paths resolved), the files of the weights, the writer and the
    lines (with IAM's transcriptions they take texts from), the seed, STAGE_CODE and the versions
    of the installed Python packages (another TensorFlow may change every number). A path that
    is missing adds nothing: no stage was ever stored for it, and loading it says what is wrong."""
    from generator.cache import files_fingerprint, fingerprint
    from model.data import transcription_source

    def model_files(spec: str) -> str:  # default and writer are under models/, in STAGE_CODE
        if spec == "distill":
            return files_fingerprint(distill_dir())
        folder = Path(spec)  # an artefact folder: weights.pretrained reads its own files, not subfolders
        return files_fingerprint(*[path for path in sorted(folder.iterdir()) if path.is_file()]) \
            if folder.is_dir() else ""

    source = config.data or _default_data()
    if source == "distill":
        lines = files_fingerprint(distill_dir())
    elif source.startswith("synthetic"):
        lines = ""  # made by model/corpus.py, in STAGE_CODE
    else:
        transcriptions = transcription_source(Path(source)) if Path(source).exists() else None
        lines = files_fingerprint(Path(source), *([transcriptions] if transcriptions else []))
    # name-version.dist-info folders (PEP 376) name every installed package and its version in 1 ms;
    # importlib.metadata parses each one's METADATA, 65 ms of a template rebuild's 0.4 s.
    packages = sorted(entry.name for folder in map(Path, sys.path) if folder.is_dir()
                      for entry in folder.glob("*.dist-info"))
    # by where they are, not how they were spelled: ./x, x/ and x are one entry (so is serve's
    # first rebuild, which names them absolute)
    return fingerprint(_located(config.weights), _located(config.writer), _located(source), config.seed,
                       model_files(config.weights),
                       model_files(config.writer), lines, files_fingerprint(*STAGE_CODE), packages)


def model_stage(config: BuildConfig, say=print) -> dict:
    """What the page takes from the model, the writer, the lines and the seed: `figures`, `files`
    (the models exported for TensorFlow.js, site path -> bytes), `charts` and the `context` values
    the templates name; `cache`, what the precompute cache did. Plain data (pickled by
    build_site whole, so a build that changes only templates/ never loads TensorFlow)."""
    from generator import assets
    from generator.cache import Cache, fingerprint, lines_fingerprint, model_fingerprint
    from generator.figures import BuildContext, build_all

    say(f"loading model ({config.weights}), writer ({config.writer}) and lines ({config.data or 'default'})")
    model, model_config, about, lines, writer = load_inputs(config, say)
    base_key = fingerprint(model_fingerprint(model), lines_fingerprint(lines), config.seed)
    cache = Cache(Path(config.cache) if config.cache else None, base_key)
    ctx = BuildContext(model=model, config=model_config, about=about, lines=lines,
                       seed=config.seed, cache=cache, data_source=config.data or _default_data(), writer=writer)
    say("[1/4] figures")
    figures = build_all(ctx, progress=say)
    say("[2/4] model export (TensorFlow.js, uint8)" + (", and the writer's" if writer else "") + "; charts")
    files = {**assets.export_model(ctx), **(assets.export_writer(ctx) if writer else {})}
    charts = assets.figure_charts(figures, cache)
    return {"figures": figures, "files": files, "charts": charts, "cache": f"{cache.hits} hits, {cache.misses} misses",
            "context": {"about": about, "model_config": asdict(model_config), "lines": len(lines), "words": ctx.words}}


def build_site(config: BuildConfig, say=print) -> dict:
    """The model's stages (model_stage, or as the cache kept them when nothing they depend on
    changed), then the page's files and the article; made beside `out`, then swapped in."""
    from generator import assets, render
    from generator.cache import Cache

    started = time.perf_counter()
    edition = load_edition(config.edition or EDITION_FILE)  # a mistyped date is known before the model loads
    out = Path(config.out)
    building = _prepare_output(out)
    try:
        stages = Cache(Path(config.cache) if config.cache else None, stage_key(config) if config.cache else "")
        stage = stages.memo("site-stage", [], lambda: model_stage(config, say))
        if stages.hits:
            say("[1/4] figures, [2/4] model export: as cached (same model, writer, lines, seed and code)")
        say("[3/4] assets (browser libraries, scripts, styles)")
        try:
            for path, content in stage["files"].items():
                (building / path).parent.mkdir(parents=True, exist_ok=True)
                (building / path).write_bytes(content)
            assets.copy_vendor(building)
            assets.copy_page_files(building)
            say("[4/4] article")
            render.write_figure_files(stage["figures"], building)
            data_source, context = config.data or _default_data(), stage["context"]
            page = render.render_article(stage["figures"], stage["charts"], {
                **context, "data_source": describe_source(data_source, context["words"]),
                "uses_original": _original_material(context["about"], data_source), "source_url": config.source_url,
                "edition": edition})
            (building / "index.html").write_text(page)
            (building / BUILD_FILE).write_text(render.to_json(_public_settings(config)) + "\n")
        except OSError as error:  # a full disk: said of --out, not of whichever file was being copied
            kept = "the site there is kept" if out.exists() else "nothing was written"
            raise BuildError(f"--out {out}: cannot write the site ({cause(error)}); "
                             f"{kept}: {way_out(error, 'another --out')}, then build again") from None
        files = [path for path in building.rglob("*") if path.is_file()]
        total_bytes = sum(path.stat().st_size for path in files)
        _swap_in(building, out)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    _record(out).write_text(json.dumps(_local_settings(config)) + "\n")
    summary = {"out": str(out), "files": len(files), "bytes": total_bytes,
               "seconds": round(time.perf_counter() - started, 1),
               "cache": "the model's stages as cached" if stages.hits else stage["cache"]}
    say(f"built {out}/: {len(files)} files, {total_bytes / 1e6:.2f} MB in "
        f"{summary['seconds']} s (cache: {summary['cache']})")
    return summary


def describe_source(source: str, words: dict) -> str:
    """The lines' source as the page names it (never a local path), with what they are
    (`words`, generator.figures.LINE_WORDS) when their files say."""
    if source == "distill":
        return "the original article's human handwriting"
    if source.startswith("synthetic"):
        return "synthetic handwriting, written by a program in A. V. Hershey’s fonts"
    return shown_name(source) + (f" ({words['lines']})" if words["kind"] else "")


def _original_material(about: dict, data_source: str) -> str:
    """What of the Distill article's files this site uses, for the CC-BY 4.0 credit."""
    used = []
    if about.get("name") == "distill":  # the cell figures then also take its cell ordering
        used += ["pretrained weights", "cell ordering"]
    if data_source == "distill" or Path(data_source).resolve().is_relative_to(distill_dir().resolve()):
        used.append("human handwriting lines")
    return ", ".join(used[:-1]) + " and " + used[-1] if len(used) > 1 else "".join(used)


def _public_settings(config: BuildConfig) -> dict:
    # Only names, never local paths: the site is published and must not depend on where it was built.
    return {"weights": shown_name(config.weights), "writer": shown_name(config.writer),
            "data": shown_name(config.data or "default"), "seed": config.seed, "source_url": config.source_url,
            "edition": shown_name(config.edition or EDITION_FILE.name)}


def _record(out: Path) -> Path:
    """Beside `out` (never published): the local settings of the build that made it, for serve."""
    return out.with_name(f".{out.name}.build.json")


def _located(source: str | None) -> str | None:
    """A source as a local path resolved, when it is one; a name (default, distill, synthetic:N) as it is."""
    if source in (None, "default", "distill", "writer", "none") or not Path(source).exists():
        return source
    return str(Path(source).resolve())


def _local_settings(config: BuildConfig) -> dict:
    """What makes the site, local paths absolute (serve may run from another folder)."""
    return {"weights": _located(config.weights), "writer": _located(config.writer), "data": _located(config.data),
            "seed": config.seed, "source_url": config.source_url, "edition": _located(config.edition or None) or ""}


def _options(settings: dict) -> list[str]:
    return ["--weights", settings["weights"], *(["--data", settings["data"]] if settings["data"] else []),
            *(["--writer", settings["writer"]] if settings.get("writer", "writer") != "writer" else []),
            "--seed", str(settings["seed"]),
            *(["--source-url", settings["source_url"]] if settings.get("source_url") else []),
            *(["--edition", settings["edition"]] if settings.get("edition") else [])]


def build(config: BuildConfig, say=print) -> dict:
    _refuse_foreign(Path(config.out))  # before loading the model: seconds a mistyped --out should not cost
    # held for the whole build: a second one at the same folder stops at once instead of
    # deleting the first one's files
    with locked(Path(config.out), f"--out {config.out}: another build is writing this folder; "
                "wait for it to finish or choose another --out"):
        return build_site(config, say=say)


def serve(out: Path, cache: str, given: dict, port: int) -> None:
    """Serve the site and rebuild (in a fresh process, so code changes count) when templates/
    or generator/ change, with the settings `out` was built with unless others are `given`.
    A failed rebuild keeps serving the previous site."""
    from generator.serve import start, watch

    recorded = json.loads(_record(out).read_text()) if _record(out).is_file() else {}
    settings = _local_settings(BuildConfig(**{**recorded, **given}, out=str(out), cache=cache))
    options = _options(settings)
    command = [sys.executable, str(REPO_ROOT / "build.py"), "build", *options, "--out", str(out), "--cache", cache]
    try:  # before building: a port in use is known at once
        server, url = start(out, port)
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise BuildError(f"port {port} is in use (another server?); choose another with --port N") from None
    try:
        if not (out / "index.html").is_file() or (given and settings != recorded):
            print(f"building {out}/ with {' '.join(options)}"
                  + (" (it was built with other settings)" if (out / "index.html").is_file() else ""), flush=True)
            build(BuildConfig(**settings, out=str(out), cache=cache))
        # Ctrl-C is how serving ends, from the moment the reader is told so
        with contextlib.suppress(KeyboardInterrupt):
            print(f"serving {out}/ at {url} (Ctrl-C to stop); rebuilding with {' '.join(options)} "
                  "when templates/ or generator/ change", flush=True)
            watch([REPO_ROOT / "templates", REPO_ROOT / "generator"], command)
    finally:
        server.shutdown()


COMMANDS = ("build", "serve")


def _parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(
        usage="%(prog)s [build|serve] [options]",
        description="Build site/ (the default command) or serve it and rebuild on changes (serve).")
    # weights, data and seed default to None: serve tells the given ones from those it reuses
    parser.add_argument("--weights",
                        help="default (models/default/, the default), distill (the original article's weights) "
                             "or an artefact folder")
    parser.add_argument("--writer",
                        help="the text model of the write-anything figure: writer (models/writer/, the default; "
                             "left out when it is not there), an artefact folder, or none")
    parser.add_argument("--data", default=None,
                        help="handwriting lines shown in the figures: a JSON lines folder, IAM XML, "
                             "'synthetic[:N]' or 'distill' "
                             "(default: the shared human lines if present, else synthetic)")
    parser.add_argument("--out", default=str(REPO_ROOT / "site"),
                        help="output folder (default: site/ in the repository)")
    parser.add_argument("--seed", type=seed_argument, help="seed for every random choice (default: 0)")
    parser.add_argument("--cache", default=str(REPO_ROOT / ".cache"),
                        help="folder for cached precomputes and model stages (default: .cache); "
                             "'' disables the cache")
    parser.add_argument("--source-url", help="the page links to its source here (default: this repository on "
                        "GitHub Actions, from GITHUB_SERVER_URL and GITHUB_REPOSITORY; else no link)")
    parser.add_argument("--edition", help="this edition's byline, dates and contributions, a JSON file "
                        "(default: edition.json in the repository)")
    parser.add_argument("--port", type=ranged(int, 0, 65535), default=8000, help="port for `serve` (default: 8000)")
    return parser


def _parse(argv: list[str]) -> tuple[str, argparse.Namespace]:
    """The command (the first word when it is one, else build) and the options. The command is
    no argparse positional: with one, a mistyped option's value read as an 'invalid choice'."""
    parser = _parser()
    command = argv[0] if argv and argv[0] in COMMANDS else "build"
    args, unknown = parser.parse_known_args(argv[1:] if argv and argv[0] in COMMANDS else argv)
    if unknown:
        close = difflib.get_close_matches(unknown[0], [*COMMANDS, *parser._option_string_actions], n=1)
        parser.error(f"unrecognized arguments: {' '.join(unknown)}" + (f" (did you mean {close[0]}?)" if close else ""))
    return command, args


def main(argv=None) -> int:
    command, args = _parse(sys.argv[1:] if argv is None else list(argv))
    given = {name: getattr(args, name) for name in ("weights", "writer", "data", "seed", "source_url", "edition")
             if getattr(args, name) is not None}
    if "source_url" not in given and os.environ.get("GITHUB_SERVER_URL") and os.environ.get("GITHUB_REPOSITORY"):
        given["source_url"] = f"{os.environ['GITHUB_SERVER_URL']}/{os.environ['GITHUB_REPOSITORY']}"
    if command == "serve":  # `serve` alone rebuilds as the site was built; `serve --seed 1` as that but seed 1
        return run_cli(lambda: serve(Path(args.out), args.cache, given, args.port))
    config = BuildConfig(**given, out=args.out, cache=args.cache)
    return run_cli(lambda: build(config),
                   interrupted=lambda: f"interrupted; {config.out} is as it was before this build")


if __name__ == "__main__":
    sys.exit(main())
