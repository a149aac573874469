"""build.py end to end, on the tiny model and lines of conftest.py.

The site opens in headless Chromium with every section and figure, no console error, no 404
and no request to another host; URLs are relative; two builds from the command line, each with
a fresh cache, are byte-identical; after a template edit a build takes the model's stages from
the cache without importing TensorFlow and gives the site a build without cache gives; a killed
or failing build leaves the previous site; bad input ends in one line `error: ...` and exit 2.
"""
import errno
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

import build

REPO_ROOT = Path(__file__).resolve().parent.parent
SECTIONS = ("introduction", "writes-section", "possibilities-section", "cells-section",
            "conclusion", "model-card-section", "references")


def tree(folder: Path) -> dict:
    """relative path -> sha256 of every file under folder."""
    return {str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


def cli(*args, cwd=REPO_ROOT, **kwargs):
    return subprocess.Popen([sys.executable, "build.py", *args], cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def snapshot_of_the_code(folder: Path) -> Path:
    """A copy of what a build reads (others edit this checkout while tests run)."""
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("generator", "templates", "model"):
        shutil.copytree(REPO_ROOT / name, folder / name, ignore=ignore)
    for name in ("build.py", "edition.json"):
        shutil.copy(REPO_ROOT / name, folder)
    (folder / "node_modules").symlink_to(REPO_ROOT / "node_modules")
    return folder


@pytest.fixture(scope="module")
def cli_sites(tmp_path_factory, tiny_artefact, tiny_lines):
    """The tiny site built twice at once from the command line, each with a fresh cache, from
    one snapshot of the code."""
    from model.base import distill_dir

    root = tmp_path_factory.mktemp("cli-sites")
    code = snapshot_of_the_code(root / "code")
    environment = {**os.environ, "HANDWRITING_DISTILL": str(distill_dir())}
    processes = [cli("--weights", str(tiny_artefact), "--data", str(tiny_lines), "--seed", "0",
                     "--out", str(root / name / "site"), "--cache", str(root / name / "cache"),
                     cwd=code, env=environment)
                 for name in ("first", "second")]
    outputs = [process.communicate(timeout=900) for process in processes]
    for process, (_stdout, stderr) in zip(processes, outputs):
        assert process.returncode == 0, stderr[-2000:]
    return [root / name / "site" for name in ("first", "second")], outputs[0][0]


@pytest.fixture
def cli_site(cli_sites):
    return cli_sites[0][0]


def test_page_opens_with_every_section_and_no_errors(tiny_site, serve, page):
    failed = []
    page.on("response", lambda response: response.status >= 400 and failed.append(response.url))
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(serve(tiny_site))
    for section in SECTIONS:
        assert page.locator(f"#{section}").count() == 1, section
    for name in ("continue", "writes", "possibilities", "cells", "cells-sorted", "cells-live", "model-card"):
        figure = page.locator(f'[data-figure="{name}"]')
        assert figure.count() == 1, name
        figure.scroll_into_view_if_needed()
    assert page.locator('[data-figure="model-card"] .chart svg path').count() > 0  # the training curve
    page.wait_for_load_state("networkidle")
    assert page.console_errors == []
    assert failed == []
    assert page.foreign_requests == []


def test_site_has_what_hosts_need(tiny_site):
    assert (tiny_site / ".nojekyll").is_file()
    assert (tiny_site / "favicon.svg").is_file()
    assert (tiny_site / "model" / "model.json").is_file()
    vendor = sorted(path.name for path in (tiny_site / "assets" / "vendor").iterdir())
    assert "tf-core.min.js" in vendor and "tfjs-backend-wasm-simd.wasm" in vendor
    assert not list(tiny_site.parent.glob("site.*")), "the temporary build folder was left behind"


def test_urls_are_relative(tiny_site):
    page = (tiny_site / "index.html").read_text()
    resources = re.findall(r'<(?:script|img|link|source|iframe)\b[^>]*?\s(?:src|href)="([^"]*)"', page)
    assert resources, "no resource found: the pattern is wrong"
    for url in resources:
        assert not re.match(r"^([a-z]+:|/)", url), f"not relative: {url}"
        assert (tiny_site / url).is_file(), f"missing: {url}"
    for css in (tiny_site / "assets" / "css").rglob("*.css"):
        assert not re.search(r"url\(\s*['\"]?(https?:|/)", css.read_text()), css
    # Only reference links may point elsewhere; they are anchors the reader chooses to follow.
    for url in re.findall(r'<a\b[^>]*\shref="([^"]*)"', page):
        assert url.startswith(("#", "https://")), url


def test_the_page_names_no_local_path(tiny_artefact, tiny_lines, tmp_path):
    private = tmp_path / "home-of-the-author" / "private-projects"
    artefact = shutil.copytree(tiny_artefact, private / "runs" / "mine")
    about = json.loads((artefact / "about.json").read_text())
    (artefact / "about.json").write_text(json.dumps({**about, "source": f"model.train on {private / 'my lines'}"}))
    metrics = json.loads((artefact / "metrics.json").read_text())
    (artefact / "metrics.json").write_text(json.dumps(
        {**metrics, "data": str(private / "lines"), "init": str(private / "runs" / "earlier")}))
    config = build.BuildConfig(weights=str(artefact), data=str(tiny_lines), out=str(tmp_path / "site"),
                               cache=str(tmp_path / "cache"))
    build.build(config, say=lambda message: None)
    site = tmp_path / "site"
    for path in site.rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            for folder in (*private.relative_to(tmp_path).parts, str(tmp_path), str(tiny_lines.parent)):
                assert folder not in text, f"{path.relative_to(site)} names {folder}"
    card = (site / "index.html").read_text()
    assert "model.train" not in card and "points) from lines," in " ".join(card.split())  # the source in words


# What a reader's data may hold: markup and quotes in a line's text and in its folder's name
# (where a path allows no slash), and a model source naming that folder.
HOSTILE_TEXT = "</script><script>alert(1)</script> \"'&<> <!-- \u2028"
HOSTILE_FOLDER = "lines <img src=x onerror=alert(2)> \"'&"


class _Elements(HTMLParser):
    """The page as a browser parses it: each script's type and text, and each option's text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts, self.options, self._in = [], [], None

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts.append([dict(attrs).get("type", ""), ""])
        elif tag == "img":
            self.scripts.append(["img", dict(attrs).get("onerror") or ""])
        if tag in ("script", "option"):
            self._in = tag
            self.options += [""] if tag == "option" else []

    def handle_endtag(self, tag):
        self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1][1] += data
        elif self._in == "option":
            self.options[-1] += data


def strings_in(value):
    if isinstance(value, dict):
        return [text for item in value.values() for text in strings_in(item)]
    if isinstance(value, list):
        return [text for item in value for text in strings_in(item)]
    return [value] if isinstance(value, str) else []


def test_markup_in_line_texts_and_folder_names_stays_text(tiny_artefact, tiny_lines, tmp_path, serve, page):
    """A site built from lines whose text and folder name hold markup: no markup of theirs
    becomes an element or leaves its script, the inline JSON parses back to the very text,
    and the page opens without running any of it."""
    lines = shutil.copytree(tiny_lines, tmp_path / HOSTILE_FOLDER)
    for number, path in enumerate(sorted(lines.glob("*.json"))):
        path.with_suffix(".txt").write_text(f"{HOSTILE_TEXT} {number}")
    artefact = shutil.copytree(tiny_artefact, tmp_path / "model")
    about = json.loads((artefact / "about.json").read_text())
    (artefact / "about.json").write_text(json.dumps({**about, "source": f"model.train on {lines}"}))
    config = build.BuildConfig(weights=str(artefact), data=str(lines), out=str(tmp_path / "site"),
                               cache=str(tmp_path / "cache"))
    build.build(config, say=lambda message: None)
    html = (tmp_path / "site" / "index.html").read_text()
    assert HOSTILE_FOLDER.split()[1] in html.replace("&lt;", "<"), "the test's folder name is not on the page"
    for markup in ("<script>alert", "alert(1)</script>", "<img src=x", "<!--"):
        assert markup not in html, markup
    elements = _Elements()
    elements.feed(html)
    assert not [element for element in elements.scripts if "alert(" in element[1] and element[0] != "application/json"]
    data = [json.loads(text) for kind, text in elements.scripts if kind == "application/json"]
    texts = [text for value in data for text in strings_in(value) if HOSTILE_TEXT in text]
    assert any(text.endswith(f"{HOSTILE_TEXT} 0”") for text in texts), texts
    assert any(option.endswith(f"{HOSTILE_TEXT} 0”") for option in elements.options), elements.options
    alerts = []
    page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
    page.goto(serve(tmp_path / "site"))
    assert alerts == [] and page.console_errors == []


def test_two_builds_are_byte_identical(cli_sites):
    (first, second), stdout = cli_sites
    assert tree(first) == tree(second)
    assert re.search(r"built .*: \d+ files, [\d.]+ MB in [\d.]+ s", stdout)


# build.py's command line, saying at the end whether it imported TensorFlow
BUILD_SAYING_IF_TENSORFLOW = ("import sys, build; code = build.main(sys.argv[1:]); "
                              "print('tensorflow' in sys.modules); sys.exit(code)")


def imports_tensorflow(process) -> bool:
    """Whether a successful BUILD_SAYING_IF_TENSORFLOW run imported TensorFlow."""
    stdout, stderr = process.communicate(timeout=900)
    assert process.returncode == 0, stderr[-2000:]
    return {"True": True, "False": False}[stdout.splitlines()[-1]]


def test_a_template_edit_rebuilds_without_tensorflow(tiny_artefact, tiny_lines, tmp_path):
    from model.base import distill_dir

    code = snapshot_of_the_code(tmp_path / "code")
    environment = {**os.environ, "HANDWRITING_DISTILL": str(distill_dir())}

    def run(site, cache):
        return subprocess.Popen([sys.executable, "-c", BUILD_SAYING_IF_TENSORFLOW, "--weights", str(tiny_artefact),
                                 "--data", str(tiny_lines), "--out", str(tmp_path / site), "--cache", cache],
                                cwd=code, env=environment, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    assert imports_tensorflow(run("site", str(tmp_path / "cache")))
    with (code / "templates" / "css" / "article.css").open("a") as css:
        css.write("\n/* a template edit */\n")
    assert not imports_tensorflow(run("site", str(tmp_path / "cache")))
    assert "a template edit" in (tmp_path / "site" / "assets" / "css" / "article.css").read_text()
    assert imports_tensorflow(run("cold", ""))  # no cache: the whole way, as before
    assert tree(tmp_path / "site") == tree(tmp_path / "cold")


def test_the_cache_keeps_the_most_recently_used_entries_of_each_name(tmp_path):
    from generator.cache import KEPT_PER_NAME, KEY_CHARACTERS, Cache

    def memo(cache, name, value):
        time.sleep(0.03)  # file times advance in clock ticks of up to 10 ms: one use per tick
        return cache.memo(name, [], lambda: value)

    def entries(name):
        return sorted(tmp_path.glob(f"{name}-{'?' * KEY_CHARACTERS}.pkl"))

    first = Cache(tmp_path, "model 0")
    memo(first, "stage", "first")
    memo(first, "stage-figure", "a neighbour by name")
    for version in range(1, KEPT_PER_NAME + 1):  # one entry too many
        memo(Cache(tmp_path, f"model {version}"), "stage", version)
        if version == 1:
            assert memo(first, "stage", "computed again") == "first"  # a hit: now used after model 1
    assert len(entries("stage")) == KEPT_PER_NAME and len(entries("stage-figure")) == 1
    assert memo(first, "stage", "computed again") == "first" and first.hits == 2
    assert memo(Cache(tmp_path, "model 1"), "stage", "computed again") == "computed again"


def test_the_model_stages_key_follows_code_and_inputs_not_templates(tiny_artefact, tiny_lines, tmp_path,
                                                                    monkeypatch):
    code = snapshot_of_the_code(tmp_path / "code")
    monkeypatch.setattr(build, "STAGE_CODE", [code / "model", code / "generator", code / "build.py"])
    lines = shutil.copytree(tiny_lines, tmp_path / "lines")
    artefact = shutil.copytree(tiny_artefact, tmp_path / "artefact")
    config = build.BuildConfig(weights=str(artefact), data=str(lines), writer="none")
    key = build.stage_key(config)
    (code / "templates" / "article.html.j2").write_text("another page")
    assert build.stage_key(config) == key
    for changed in (code / "model" / "base.py", lines / "0.json", artefact / "weights.h5"):
        before = changed.read_bytes()
        changed.write_bytes(before + b" ")
        assert build.stage_key(config) != key, changed
        changed.write_bytes(before)
    assert build.stage_key(config) == key
    assert build.stage_key(build.BuildConfig(weights=str(artefact), data=str(lines), writer="none", seed=1)) != key
    assert build.stage_key(build.BuildConfig(data=str(tmp_path / "no-such-lines"))) != key  # reported by loading
    installed = tmp_path / "site-packages"
    (installed / "tensorflow-2.19.0.dist-info").mkdir(parents=True)
    monkeypatch.setattr(sys, "path", [str(installed)])
    key = build.stage_key(config)
    (installed / "tensorflow-2.19.0.dist-info").rename(installed / "tensorflow-99.0.dist-info")  # an upgrade
    assert build.stage_key(config) != key


def test_the_model_stages_key_names_a_folder_however_it_is_spelled(tiny_artefact, tiny_lines, tmp_path,
                                                                  monkeypatch):
    shutil.copytree(tiny_lines, tmp_path / "my lines")
    shutil.copytree(tiny_artefact, tmp_path / "my model")
    monkeypatch.chdir(tmp_path)
    keys = {build.stage_key(build.BuildConfig(weights=weights, data=data, writer="none"))
            for weights, data in (("my model", "my lines"), ("./my model", "my lines/"), ("my model/", "./my lines"),
                                  (str(tmp_path / "my model"), str(tmp_path / "my lines")))}
    assert len(keys) == 1


def test_a_killed_build_leaves_the_previous_site(cli_site, tiny_artefact, tiny_lines, tmp_path):
    site = cli_site
    before = tree(site)
    process = cli("--weights", str(tiny_artefact), "--data", str(tiny_lines), "--seed", "1",
                  "--out", str(site), "--cache", str(tmp_path / "fresh-cache"), start_new_session=True)
    for line in process.stdout:  # the build folder exists from the first stage on
        if line.startswith("[1/4]"):
            break
    assert site.with_name("site.building").is_dir()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert tree(site) == before


def test_a_second_build_at_the_same_folder_stops_at_once(tiny_artefact, tiny_lines, tmp_path):
    site = tmp_path / "site"
    options = ("--weights", str(tiny_artefact), "--data", str(tiny_lines), "--out", str(site))
    first = cli(*options, "--cache", str(tmp_path / "first-cache"))
    for line in first.stdout:  # the first build holds site/ from before loading its model
        if line.startswith("[1/4]"):
            break
    second = cli(*options, "--cache", str(tmp_path / "second-cache"))
    _stdout, stderr = second.communicate(timeout=300)
    assert second.returncode == 2, stderr[-2000:]
    assert stderr.count("\n") == 1 and "another build is writing" in stderr and str(site) in stderr, stderr
    first.stdout.read()
    assert first.wait(timeout=900) == 0, first.stderr.read()[-2000:]
    assert (site / "index.html").is_file()


def test_a_failing_build_leaves_the_previous_site(cli_site, tiny_artefact, tiny_lines, tmp_path, monkeypatch):
    site = cli_site
    before = tree(site)

    def full_disk(folder):  # simulated: no root, no small tmpfs here
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/somewhere/node_modules/tfjs.wasm")

    monkeypatch.setattr("generator.assets.copy_vendor", full_disk)
    config = build.BuildConfig(weights=str(tiny_artefact), data=str(tiny_lines), out=str(site),
                               cache=str(site.parent / "cache"))
    with pytest.raises(build.BuildError) as excinfo:
        build.build(config, say=lambda message: None)
    message = str(excinfo.value)
    assert "\n" not in message and message.startswith(f"--out {site}: cannot write the site (No space left")
    assert "the site there is kept" in message and "node_modules" not in message
    assert tree(site) == before
    assert not site.with_name("site.building").exists()


@pytest.mark.parametrize("problem", ["weights", "data", "bad-json", "out", "seed"])
def test_bad_input_is_one_line_and_exit_2(problem, tiny_artefact, tiny_lines, tmp_path, capsys):
    bad_json = tmp_path / "lines"
    bad_json.mkdir()
    (bad_json / "0.json").write_text("[[1, 2, 0], [3, 4")
    not_a_site = tmp_path / "documents"
    not_a_site.mkdir()
    (not_a_site / "letter.txt").write_text("keep me")
    arguments = {"weights": ["--weights", str(tmp_path / "no-such-model")],
                 "data": ["--data", str(tmp_path / "no-such-lines")],
                 "bad-json": ["--data", str(bad_json)],
                 "out": ["--out", str(not_a_site)],
                 "seed": ["--seed", "many"]}[problem]
    defaults = {"--weights": str(tiny_artefact), "--data": str(tiny_lines), "--out": str(tmp_path / "site"),
                "--cache": str(tmp_path / "cache")}
    for option, value in defaults.items():
        if option not in arguments:
            arguments += [option, value]
    try:
        code = build.main(arguments)
    except SystemExit as exit:  # argparse's own errors
        code = exit.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("error:") or "error:" in err[-1], err
    assert "Traceback" not in "\n".join(err)
    assert (not_a_site / "letter.txt").read_text() == "keep me"
    assert not (tmp_path / "site").exists()


def test_an_out_that_is_not_a_site_is_refused_before_loading(tmp_path, capsys, monkeypatch):
    documents = tmp_path / "documents"
    documents.mkdir()
    (documents / "letter.txt").write_text("keep me")

    def loading(config):
        raise AssertionError("loaded the model and lines before checking --out")

    monkeypatch.setattr(build, "load_inputs", loading)
    assert build.main(["--out", str(documents)]) == 2
    assert "is not empty, not a site made by build.py" in capsys.readouterr().err
    assert not documents.with_name(".documents.lock").exists()  # refused before taking the folder


@pytest.mark.parametrize("typo, expected", [
    (["--weigths", "x"], "unrecognized arguments: --weigths x (did you mean --weights?)"),
    (["serve", "--prot", "8001"], "unrecognized arguments: --prot 8001 (did you mean --port?)"),
    (["serv"], "unrecognized arguments: serv (did you mean serve?)"),
])
def test_a_mistyped_option_or_command_is_named_with_a_guess(typo, expected, capsys):
    with pytest.raises(SystemExit) as exit:
        build.main(typo)
    assert exit.value.code == 2
    assert capsys.readouterr().err == f"error: {expected} (see --help)\n"  # one line, as every UserError


def test_cli_error_exit_code_from_a_real_process(tmp_path):
    process = cli("--data", str(tmp_path / "missing"))
    _stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 2
    one_line_error = stderr.startswith("error:") and stderr.count("\n") == 1
    assert one_line_error and str(tmp_path / "missing") in stderr, stderr[-2000:]


def test_fits_a_phone(tiny_site, serve, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(serve(tiny_site))
    figures = page.locator("[data-figure]")
    assert figures.count() >= 8
    for figure in figures.all():  # each drawn as a reader scrolling by sees it (charts render when in view)
        figure.scroll_into_view_if_needed()
        page.wait_for_load_state("networkidle")
    # what scrolls inside a box that fits (a long command in <pre>) is not too wide
    too_wide = page.evaluate("""[...document.querySelectorAll('body *')]
        .filter((element) => !element.parentElement.closest('pre'))
        .filter((element) => element.getBoundingClientRect().right > innerWidth + 1)
        .map((element) => `${element.tagName}.${element.getAttribute('class')} in ${
          element.closest('[data-figure]')?.dataset.figure ?? element.closest('section')?.id}`)""")
    context.close()
    assert too_wide == []


def test_serve_rebuilds_when_a_watched_file_changes(tmp_path):
    from generator.serve import watch

    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "article.html.j2").write_text("one")
    rebuilt = tmp_path / "rebuilt"
    command = [sys.executable, "-c", f"open({str(rebuilt)!r}, 'a').write('x')"]
    threading.Thread(target=watch, args=([templates], command, 0.1), daemon=True).start()
    time.sleep(0.5)
    assert not rebuilt.exists()
    (templates / "article.html.j2").write_text("two")
    deadline = time.monotonic() + 20
    while not rebuilt.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert rebuilt.read_text() == "x"


def test_serve_on_a_port_in_use_names_it_in_one_line(tmp_path, capsys):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("a site")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = build.main(["serve", "--port", str(port), "--out", str(tmp_path / "site")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and f"port {port} is in use" in err and "--port" in err, err


@pytest.fixture
def serving(monkeypatch, capsys):
    """serving(*arguments) -> (the rebuild command, the builds started, stdout) of `build.py serve`,
    stopped where it would start watching."""
    command, builds = [], []
    monkeypatch.setattr("generator.serve.watch", lambda folders, rebuild: command.extend(rebuild))
    monkeypatch.setattr(build, "build", lambda config: builds.append(config))

    def run(*arguments):
        assert build.main(["serve", "--port", "0", *arguments]) == 0
        return command, builds, capsys.readouterr().out
    return run


def test_serve_rebuilds_as_the_site_was_built(tiny_site, tiny_artefact, tiny_lines, serving):
    command, builds, stdout = serving("--out", str(tiny_site), "--cache", "")
    options = ["--weights", str(tiny_artefact), "--data", str(tiny_lines), "--seed", "0"]
    assert command[command.index("build"):] == ["build", *options, "--out", str(tiny_site), "--cache", ""]
    assert builds == []
    assert f"rebuilding with {' '.join(options)} when" in stdout


def test_serve_with_other_options_rebuilds_first_and_says_so(tiny_site, tiny_artefact, tiny_lines, serving):
    command, builds, stdout = serving("--out", str(tiny_site), "--seed", "1", "--cache", "")
    assert [(config.weights, config.data, config.seed) for config in builds] == [
        (str(tiny_artefact), str(tiny_lines), 1)]
    assert f"building {tiny_site}/ with --weights {tiny_artefact} --data {tiny_lines} --seed 1 " \
           "(it was built with other settings)" in stdout
    assert command[command.index("--seed") + 1] == "1"


def test_ctrl_c_stops_serve_cleanly(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("a site")
    process = cli("serve", "--out", str(tmp_path / "site"), "--port", "0",
                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # as from a terminal
    assert process.stdout.readline().startswith(f"serving {tmp_path / 'site'}/ at http://127.0.0.1:")
    process.send_signal(signal.SIGINT)
    _stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0 and stderr == "", stderr
