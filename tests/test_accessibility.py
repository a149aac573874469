"""The built page against WCAG 2.1 A and AA, as axe-core (the engine browsers' audits use) checks it,
with every figure loaded: the original article has five kinds of violation; the rebuild must have none."""
import json

from model.base import REPO_ROOT

AXE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def test_no_wcag_violations_with_every_figure_loaded(tiny_site, serve, page):
    page.goto(serve(tiny_site))
    for figure in page.query_selector_all("[data-figure]"):  # scroll each into view so it loads
        figure.scroll_into_view_if_needed()
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(1000)
    page.add_script_tag(content=AXE.read_text())
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", RULES)
    violations = [{"rule": item["id"], "impact": item["impact"],
                   "where": [node["target"] for node in item["nodes"][:3]]} for item in result["violations"]]
    assert violations == [], json.dumps(violations, indent=1)
    assert len(result["passes"]) > 10  # axe really ran its rules
