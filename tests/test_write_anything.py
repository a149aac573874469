"""The write-anything figure (the text model writes what the reader types) in a tiny built site,
in headless Chromium, also beside the original article's weights (skipped without them); and a
build with --writer none, which leaves the section out.

The text model is test_writer_js's: random weights, a window that crosses a character in a
few points, and the alphabet " abhi", so most characters are outside it.
"""
import json
import random
import shutil

import pytest
from test_article_text import visible_text
from test_live import CHECK_WRITES_INK
from test_writer_js import ALPHABET, CONFIG, FOLLOWS_ANY, MEASURED

import build

FIGURE = '[data-figure="write-anything"]'
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True, "has_touch": True}


def built(root, weights, tiny_lines, writer):
    said = []
    config = build.BuildConfig(weights=str(weights), writer=writer, data=str(tiny_lines), seed=0,
                               out=str(root / "site"), cache=str(root / "cache"))
    build.build(config, say=said.append)
    return root / "site", said


@pytest.fixture(scope="module")
def writer_site(tmp_path_factory, tiny_artefact, tiny_lines, tiny_writer_artefact):
    # Whether a random writer follows a scribble (model.write.FOLLOWED_NLL) is chance, which any
    # change to its page copy redraws: this one follows every prime it reads to the end, so that a
    # prime's state carries. Primes not followed: test_writer_js and test_write.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("model.export.FOLLOWED_NLL", FOLLOWS_ANY)
        return built(tmp_path_factory.mktemp("writer-site"), tiny_artefact, tiny_lines, str(tiny_writer_artefact))[0]


@pytest.fixture
def figure_page(writer_site, serve, page):
    page.goto(serve(writer_site))
    page.locator(FIGURE).scroll_into_view_if_needed()
    return page


def attribute(page, name):
    return page.get_attribute(FIGURE, name)


def write(page, text):
    """Types text into the figure's box and waits until the model has written it."""
    page.fill(".write-anything-text", text)
    wait_written(page)


def wait_written(page):
    page.wait_for_function(f"""() => {{
      const root = document.querySelector('{FIGURE}');
      return root.dataset.state === 'done' || root.dataset.state === 'idle';
    }}""", timeout=30_000)


def message(page):
    return page.locator(".write-anything-message").inner_text()


def test_typing_draws_and_the_window_follows(figure_page):
    page = figure_page
    write(page, "hi abba")
    assert attribute(page, "data-text") == "hi abba" and message(page) == ""
    drawn = int(attribute(page, "data-drawn-points"))
    assert drawn > 0
    assert int(attribute(page, "data-window-steps")) == drawn, "one window column per point drawn"
    heat = page.locator(".write-anything-heat").evaluate("""canvas => {
      const {data} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      let inked = 0;
      for (let i = 0; i < data.length; i += 4) inked += data[i + 3] > 0 && data[i] < 250;
      return {inked, rows: canvas.height, marker: document.querySelector('.write-anything-now').style.left,
              width: canvas.width};
    }""")
    assert heat["rows"] == len("hi abba") and heat["inked"] > 0, "one row per character, the space too"
    assert float(heat["marker"].rstrip("%")) == pytest.approx(100 * (drawn - 0.5) / heat["width"], abs=0.01)
    assert page.locator(".write-anything-chars span").all_text_contents() == list("hi abba")
    assert page.console_errors == [] and page.foreign_requests == []


def saved_svg(page, path):
    with page.expect_download() as download_info:
        page.click(".write-anything-save")
    download_info.value.save_as(path)
    return path.read_text()


def hand_pixels(page):
    """How many pixels of the reader's pen box are inked, and how many show the empty box's hint
    (lighter than any ink)."""
    return page.locator(".write-anything-hand").evaluate("""canvas => {
      const {data} = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
      const pixels = {ink: 0, hint: 0};
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] > 0) pixels[data[i] < 100 ? 'ink' : 'hint']++;
      }
      return pixels;
    }""")


def hand_ink(page):
    return hand_pixels(page)["ink"]


def draw(page, strokes):
    """Draws strokes ([(x, y), ...] in CSS pixels from the pen box's corner) with the mouse."""
    box = page.locator(".write-anything-hand").bounding_box()
    for stroke in strokes:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=3)
        page.mouse.up()


def test_write_like_me_primes_the_model_with_the_readers_hand(figure_page, tmp_path):
    page = figure_page
    write(page, "abba")
    unprimed = saved_svg(page, tmp_path / "unprimed.svg")
    assert page.get_by_role("group", name="Write like me").is_visible()
    assert hand_pixels(page) == {"ink": 0, "hint": hand_pixels(page)["hint"]} and hand_pixels(page)["hint"] > 0
    page.click(".write-anything-like-me")
    assert "Write a few words in the small box first" in message(page)
    draw(page, [[(20, 60), (30, 40), (40, 70), (50, 40), (60, 70)], [(80, 50), (90, 70), (100, 45), (110, 70)]])
    assert hand_ink(page) > 0
    page.click(".write-anything-like-me")
    assert "Type the words you wrote" in message(page)
    assert attribute(page, "data-primed") == "false"
    page.fill(".write-anything-hand-text", " a  ")  # short enough for the scribble to read to its end
    page.click(".write-anything-like-me")
    wait_written(page)
    assert attribute(page, "data-primed") == "true" and message(page) == ""
    assert page.locator(".write-anything-hand-choice").is_disabled(), "the prime's hand, not the picker's"
    drawn = int(attribute(page, "data-drawn-points"))
    assert drawn > 0 and int(attribute(page, "data-window-steps")) == drawn
    assert saved_svg(page, tmp_path / "primed.svg") != unprimed, "the same seed writes otherwise after the prime"
    page.click(".write-anything-hand-clear")
    wait_written(page)
    assert attribute(page, "data-primed") == "false" and hand_ink(page) == 0 and hand_pixels(page)["hint"] > 0
    assert saved_svg(page, tmp_path / "cleared.svg") == unprimed
    assert page.locator(".write-anything-hand-choice").is_enabled()
    assert page.console_errors == [] and page.foreign_requests == []


def test_the_hand_picker_writes_in_the_chosen_hand(figure_page, tmp_path):
    """The tiny writer learned two hands: the picker offers both, the first chosen, and each
    writes the same text with the same seed otherwise."""
    page = figure_page
    picker = page.locator(".write-anything-hand-choice")
    assert picker.locator("option").all_text_contents() == CONFIG.hands and picker.input_value() == CONFIG.hands[0]
    write(page, "abba")
    first = saved_svg(page, tmp_path / "first.svg")
    picker.select_option(CONFIG.hands[1])
    wait_written(page)
    assert saved_svg(page, tmp_path / "second.svg") != first
    picker.select_option(CONFIG.hands[0])
    wait_written(page)
    assert saved_svg(page, tmp_path / "again.svg") == first
    assert page.console_errors == [] and page.foreign_requests == []


def test_a_long_text_is_written_in_rows(figure_page, tmp_path):
    write(figure_page, "hi abba hi abba")  # 15 characters: two rows of at most 12
    assert attribute(figure_page, "data-text") == "hi abba hi abba"
    with figure_page.expect_download() as download_info:
        figure_page.click(".write-anything-save")
    path = tmp_path / "text.svg"
    download_info.value.save_as(path)
    svg = path.read_text()
    assert svg.startswith("<svg") and svg.count("<path") == 2
    assert figure_page.console_errors == []


@pytest.mark.parametrize("typed, expected_message, expected_text", [
    ("   ", "Type some words", ""),
    ("ab " * 80, "Only the first 200 of your 239 characters are written.", " ".join(["ab"] * 67)),
    ("hi zoë", "Skipped “z”, “o”, “ë”: the model never learned those characters.", "hi"),
    ("zz", "Nothing is left to write", ""),
])
def test_bad_input_gets_a_message(figure_page, typed, expected_message, expected_text):
    write(figure_page, typed)
    assert expected_message in message(figure_page)
    assert attribute(figure_page, "data-text") == expected_text
    if not expected_text:
        assert attribute(figure_page, "data-drawn-points") == "0"
    assert figure_page.console_errors == []


def test_typing_while_writing_stops_the_old_text(figure_page):
    page = figure_page
    page.fill(".write-anything-text", "abba " * 30)
    page.wait_for_function(f"Number(document.querySelector('{FIGURE}').dataset.drawnPoints) > 5", timeout=30_000)
    write(page, "hi")
    assert attribute(page, "data-text") == "hi"
    # writer-model.js gives up on a text after 3 * 27 points per character: only "hi"'s points are left
    assert 0 < int(attribute(page, "data-drawn-points")) <= 3 * 27 * 2
    assert int(attribute(page, "data-window-steps")) == int(attribute(page, "data-drawn-points"))
    assert page.console_errors == []


def test_fits_a_phone(writer_site, serve, browser):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(serve(writer_site))
    page.locator(FIGURE).scroll_into_view_if_needed()
    write(page, "hi abba hi abba")
    assert int(attribute(page, "data-drawn-points")) > 0
    widths = page.evaluate(f"""() => {{
      const root = document.querySelector('{FIGURE}');
      return [document.documentElement.scrollWidth, root.getBoundingClientRect().right,
              ...[...root.querySelectorAll('canvas, input, button')].map((e) => e.getBoundingClientRect().right)];
    }}""")
    assert max(widths) <= 390, widths
    assert errors == []
    context.close()


def test_the_writer_works_beside_the_original_weights(distill, tmp_path, tiny_lines, tiny_writer_artefact, serve, page):
    """--weights distill with a writer: the original's 500 cells and the text model share the page's
    worker; each writes in turn (the writer before and after the handwriting model)."""
    site = built(tmp_path, "distill", tiny_lines, str(tiny_writer_artefact))[0]
    page.goto(serve(site))
    page.locator(FIGURE).scroll_into_view_if_needed()
    write(page, "hi abba")
    assert attribute(page, "data-text") == "hi abba" and int(attribute(page, "data-drawn-points")) > 0
    writes = '[data-figure="writes"]'
    page.locator(writes).scroll_into_view_if_needed()
    page.wait_for_function(f"Number(document.querySelector('{writes}').dataset.drawnPoints) > 20", timeout=60_000)
    page.locator(FIGURE).scroll_into_view_if_needed()
    write(page, "abba hi")
    assert attribute(page, "data-text") == "abba hi" and int(attribute(page, "data-drawn-points")) > 0
    assert page.console_errors == [] and page.foreign_requests == []


def test_writer_none_builds_without_the_section(tmp_path, tiny_artefact, tiny_lines):
    site, said = built(tmp_path, tiny_artefact, tiny_lines, "none")
    page = (site / "index.html").read_text()
    assert "write-anything" not in page and not (site / "writer").exists()
    assert "model-card-writer" not in page and "Appendix: about the model<" in page
    assert json.loads((site / "build.json").read_text())["writer"] == "none"
    assert [line for line in said if "write-anything" in line] == ["write-anything: left out (--writer none)"]


def test_the_writer_is_exported_beside_the_model(writer_site, tiny_writer_artefact):
    exported = json.loads((writer_site / "writer" / "model.json").read_text())
    assert exported["format"] == "weights-only" and exported["userDefinedMetadata"]["alphabet"]["chars"] == " abhi"
    assert exported["userDefinedMetadata"]["export"]["quantize"] == "uint8"
    assert json.loads((writer_site / "build.json").read_text())["writer"] == tiny_writer_artefact.name


def test_the_model_card_covers_the_writer(writer_site):
    page = (writer_site / "index.html").read_text()
    assert "Appendix: about the models<" in page
    card = " ".join(page.split('<h3 id="model-card-writer">', 1)[1].split("</dl>", 1)[0].split())
    assert "2 LSTM layers of 6 cells that read the text through a soft window of 3 Gaussians" in card
    assert f"({ALPHABET.size} character codes, one of them for any character outside its alphabet)" in card
    assert "-4.2500 nats per point" in card and "trained for two passes on lines from the same source, scored" in card
    assert "where this one scored -3.0000 after as many" in card
    assert "fully trained, this one does 1.50 nats per point better" in card and "at neatness 1;" in card
    assert "misreads 12.5% of the characters" in card and "90% of those texts ended on time" in card
    assert "What it learned from" not in card  # the tiny writer has no train.json: nothing to name


# What model.evaluate measures of a writer now: MEASURED, with each text written three times, the
# error rate per kind of character and how often priming kept the hand (four hands here, so no
# count is the corpus's six by chance)
MEASURED_NOW = {**MEASURED,
                "written": {**MEASURED["written"], "writings": 3, "cer_by_class": {
                    "lower case": 0.041, "capitals": 0.09, "digits": 0.12, "punctuation": 0.155, "space": 0.02}},
                "hands": {"primes": 16, "bias": 1.0, "hands": ["cursive", "futural", "scripts", "timesi"],
                          "matrix": [[4, 0, 0, 0], [1, 3, 0, 0], [0, 1, 3, 0], [0, 0, 1, 3]], "accuracy": 0.8125}}


def synthetic_writers_page(root, tiny_artefact, tiny_lines, tiny_writer_artefact, measured):
    """The visible text of a site whose writer (the tiny one) says it learned from the synthetic
    corpus's lines of 10 to 50 characters, with `measured` in its about.json."""
    folder = root / "writer"
    shutil.copytree(tiny_writer_artefact, folder)
    about = json.loads((folder / "about.json").read_text())
    (folder / "about.json").write_text(json.dumps({**about, "measured": measured}))
    (folder / "train.json").write_text(json.dumps({"data": "synthetic:30000:chars=10-50", "val_fraction": 0.05,
                                                   "seed": 0}))
    return visible_text(built(root, tiny_artefact, tiny_lines, str(folder))[0])


def test_the_page_says_how_legibly_and_in_whose_hand_the_writer_writes(tmp_path, tiny_artefact, tiny_lines,
                                                                       tiny_writer_artefact):
    text = synthetic_writers_page(tmp_path, tiny_artefact, tiny_lines, tiny_writer_artefact, MEASURED_NOW)
    assert "for 10 texts it never learned from, each written three times, at neatness 1;" in text
    assert ("By kind of character, it misreads 4.1% of the lower-case letters, 9.0% of the capitals, 12.0% of "
            "the digits and 15.5% of the punctuation marks.") in text
    assert ("Whose hand it keeps Given a line it never learned from, written in one of its four hands, and then "
            "a new text, it wrote the text in that same hand 81% of the time, where guessing would be right 25% "
            "of the time. It was tried with 16 such lines at neatness 1, and the hand was judged") in text
    assert "So it writes letters the way those fonts draw them, in any of its four hands, not the way" in text
    assert ("keeps their letter shapes whatever you give it. What a sample can do is choose among them: the "
            "network asks which of its hands makes your first strokes likeliest, and writes in that one. Given "
            "a line it never learned from, in one of its four hands, it went on in that same hand 81% of the time. "
            "Your hand is none of those four, so what comes back is the nearest of them, not a copy of yours.") in text


def test_a_writer_measured_before_hands_and_kinds_of_character_says_neither(tmp_path, tiny_artefact, tiny_lines,
                                                                            tiny_writer_artefact):
    text = synthetic_writers_page(tmp_path, tiny_artefact, tiny_lines, tiny_writer_artefact, MEASURED)
    assert "misreads 12.5% of the characters" in text and "90% of those texts ended on time" in text
    for measured_now in ("By kind of character", "each written", "Whose hand it keeps", "in any of its",
                         "Your hand is none"):
        assert measured_now not in text
    assert "So it writes letters the way those fonts draw them, not the way any person does." in text
    assert "keeps their letter shapes whatever you give it, and takes on only the broad lines of a sample." in text


def test_serve_rebuilds_with_the_writer_the_site_was_built_with():
    settings = {"weights": "default", "data": None, "seed": 0}
    assert "--writer" not in build._options({**settings, "writer": "writer"})  # the default goes unsaid
    assert build._options({**settings, "writer": "none"})[-4:] == ["--writer", "none", "--seed", "0"]


def test_a_missing_committed_writer_leaves_the_section_out_in_one_line(tmp_path, monkeypatch):
    from model import weights

    monkeypatch.setitem(weights.NAMED_MODEL_DIRS, "writer", tmp_path / "writer")
    said = []
    assert build.load_writer("writer", said.append) is None
    assert said == ["write-anything: left out (no text model in writer/; give one with --writer FOLDER)"]


# test_live's check of every segment drawn (both ends, with half the line's width around them,
# inside the canvas), on this figure's canvas; window.writesInk counts and keeps what is outside
CHECK_INK = CHECK_WRITES_INK.replace('"writes-canvas"', '"write-anything-canvas"')


def generated_texts(count, seed=0):
    """Texts of one to fifty characters of the tiny writer's alphabet: words of every length, one
    longer than any row, runs of one letter."""
    chooser = random.Random(seed)
    words = ["".join(chooser.choice(ALPHABET.chars.strip()) for _ in range(chooser.randint(1, 14)))
             for _ in range(4 * count)]
    return [" ".join(words[index * 4:index * 4 + chooser.randint(1, 4)]) for index in range(count)]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_no_ink_leaves_the_box(writer_site, serve, browser, viewport):
    """At every neatness from the slider's 0 to its 3, over many generated texts, every segment the
    figure draws lies inside its canvas (rows grow for loops and descenders, and the writing
    shrinks for ink too wide or too tall)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page.add_init_script(CHECK_INK)
    page.goto(serve(writer_site))
    page.locator(FIGURE).scroll_into_view_if_needed()
    bias = page.locator(".write-anything-bias")
    for index, text in enumerate(generated_texts(16)):
        neatness = ["0", "0.5", "1", "3"][index % 4]
        bias.evaluate(f"input => {{ input.value = '{neatness}'; input.dispatchEvent(new Event('change')); }}")
        write(page, text)
        assert int(attribute(page, "data-drawn-points")) > 0, text
    assert page.evaluate("window.writesInk.segments") > 300
    assert page.evaluate("window.writesInk.outside") == []
    context.close()


def test_the_windows_characters_stay_readable_on_a_long_text(figure_page):
    page = figure_page
    write(page, " ".join(["abba hi"] * 12))
    heights = page.locator(".write-anything-chars span").evaluate_all("spans => spans.map((s) => s.offsetHeight)")
    texts = page.locator(".write-anything-chars span").all_text_contents()
    assert len(texts) > 60
    assert min(heights) >= 11 and all(texts), "every character labelled, at least 11 px tall"
    window = page.locator(".write-anything-window").bounding_box()
    assert window["height"] <= 230, "a long text scrolls in the window"
    reading = page.locator(".write-anything-chars span.reading").bounding_box()
    assert window["y"] <= reading["y"] and reading["y"] + reading["height"] <= window["y"] + window["height"]
    assert page.console_errors == []


def test_a_wide_figure_holds_a_38_character_row():
    """At 1280 px the figure is 960 px wide, 896 of them for ink (20 px padding and a 12 px margin
    each side): at the default scale and the corpus's width per character, 38 characters fit."""
    from generator.figures.write_anything import WriteAnythingConfig

    config = WriteAnythingConfig()
    assert (960 - 2 * 20 - 2 * 12) // (config.scale * config.units_per_character) >= 38
