"""The static server and the browser fixture work together: wasm is served as application/wasm."""
import urllib.request


def test_wasm_mime_type_and_page_loads(tmp_path, serve, page):
    (tmp_path / "index.html").write_text(
        "<!doctype html><title>ok</title><link rel=icon href='data:,'><p id=p>hello</p>")
    (tmp_path / "a.wasm").write_bytes(b"\0asm\1\0\0\0")
    url = serve(tmp_path)
    with urllib.request.urlopen(url + "a.wasm") as response:
        assert response.headers["Content-Type"] == "application/wasm"
    page.goto(url)
    assert page.text_content("#p") == "hello"
    assert page.console_errors == [] and page.foreign_requests == []
