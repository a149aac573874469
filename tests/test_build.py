"""build.py end to end: the tiny site builds and opens in headless Chromium cleanly."""


def test_tiny_site_opens_with_every_section(tiny_site, serve, page):
    missing = []
    page.on("response", lambda response: response.status >= 400 and missing.append(response.url))
    page.goto(serve(tiny_site))
    for section in ("introduction", "writes-section", "possibilities-section", "cells-section",
                    "conclusion", "model-card-section", "references"):
        assert page.locator(f"#{section}").count() == 1, section
    for name in ("continue", "writes", "possibilities", "cells", "cells-sorted", "cells-live", "model-card"):
        assert page.locator(f'[data-figure="{name}"]').count() == 1, name
    page.wait_for_selector('[data-figure="model-card"]')
    page.wait_for_timeout(1000)
    assert page.console_errors == []
    assert missing == []
    assert page.foreign_requests == []
