"""HTML -> text with code kept: the extractor on written snippets and real pages, the input
readers, the <10-word drop and `codekiln curate web extract`."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codekiln_core.cli.app import main
from codekiln_core.errors import ConfigError
from codekiln_curate.web.categories import tag_category
from codekiln_curate.web.extract import extract_pages
from codekiln_curate.web.html import extract
from codekiln_curate.web.pages import iter_pages

PAGES = Path(__file__).resolve().parent / "pages"

PAGE = """<!DOCTYPE html><html><head><title>Reading &amp; writing files</title>
<style>body { color: red }</style><script>var tracking = 1;</script></head>
<body><nav><a href="/">Home</a> | <a href="/docs">Docs</a></nav>
<header><h1>Site banner</h1></header>
<main><h2>Open a file</h2>
<p>Use   <code>open()</code> to read a file &mdash; it returns a file object.</p>
<ul><li>first item</li><li>second &lt;item&gt;</li></ul>
<div class="highlight-python notranslate"><div class="highlight">
<pre><span class="k">with</span> open(<span class="s">"a.txt"</span>) as f:
    for line in f:
        print(line.rstrip())   # keep   spacing
</pre></div></div>
<pre><code class="language-js">const x = 1;
if (x &lt; 2) { console.log("```"); }</code></pre>
<div><code>multi
line</code></div>
</main><footer>Copyright 2024 Example Corp, all rights reserved</footer></body></html>"""


def test_extract_keeps_code_verbatim_and_drops_boilerplate() -> None:
    page = extract(PAGE)
    assert page.title == "Reading & writing files"
    for gone in ("tracking", "color: red", "Home", "Copyright", "Site banner"):
        assert gone not in page.text
    assert "## Open a file" in page.text
    assert "Use `open()` to read a file — it returns a file object." in page.text
    assert "- first item\n- second <item>" in page.text
    assert ('```python\nwith open("a.txt") as f:\n    for line in f:\n'
            '        print(line.rstrip())   # keep   spacing\n```') in page.text
    # A block containing ``` gets a longer fence so the block stays one block.
    assert '````js\nconst x = 1;\nif (x < 2) { console.log("```"); }\n````' in page.text
    assert "```\nmulti\nline\n```" in page.text  # multi-line <code> outside <pre> is a block
    assert page.has_code_tags and page.num_code_blocks == 3


def test_extract_plain_page_and_broken_markup() -> None:
    page = extract("<html><body><p>Just some prose, no code here.<div>unclosed <b>bold")
    assert page.text == "Just some prose, no code here.\nunclosed bold"
    assert not page.has_code_tags and page.num_code_blocks == 0 and page.num_words == 8
    assert extract("<pre>left open\n  indented").text == "```\nleft open\n  indented\n```"
    assert extract("").text == ""


def test_extract_real_node_page_keeps_js_examples() -> None:
    html = (PAGES / "nodejs" / "string_decoder.html").read_text(encoding="utf-8")
    page = extract(html)
    assert page.title.startswith("String decoder")
    assert "```js\n" in page.text
    assert "const { StringDecoder } = require('node:string_decoder');" in page.text
    assert "function(" not in page.title and "<span" not in page.text
    assert page.num_code_blocks >= 3 and page.num_words > 300


def test_readers_dir_jsonl_parquet(tmp_path: Path) -> None:
    from_dir = list(iter_pages(PAGES / "libffi"))
    assert len(from_dir) == 20 and from_dir[0].path.endswith(".html")
    records: list[dict[str, str | None]] = [
        {"id": None, "url": "https://docs.example.org/api/x.html", "html": PAGE},
        {"id": "own-id", "url": "https://shop.example.com/products/1",
         "html": "<p>Add to cart</p>"}]
    jsonl = tmp_path / "pages.jsonl"
    jsonl.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    parquet = tmp_path / "pages.parquet"
    pq.write_table(pa.Table.from_pylist(records), parquet)
    for source in (jsonl, parquet):
        pages = list(iter_pages(source))
        assert [p.url for p in pages] == [r["url"] for r in records]
        assert pages[1].id == "own-id" and len(pages[0].id) == 16
    with pytest.raises(ConfigError, match="no 'body' column"):
        list(iter_pages(parquet, html_column="body"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"html": "<p>x</p>"}\nnot json\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad.jsonl:2: invalid JSON"):
        list(iter_pages(bad))
    with pytest.raises(ConfigError, match="no such file"):
        list(iter_pages(tmp_path / "missing"))


def test_extract_pages_drops_short_pages_with_reasons(tmp_path: Path) -> None:
    source = tmp_path / "site"
    source.mkdir()
    (source / "long.html").write_text(PAGE, encoding="utf-8")
    (source / "short.html").write_text("<p>only five words right here</p>", encoding="utf-8")
    (source / "empty.html").write_text("<script>x()</script>", encoding="utf-8")
    result = extract_pages(source, tmp_path / "out")
    assert result.stats["kept"] == 1
    assert result.stats["dropped_per_reason"] == {"empty": 1, "too_few_words": 1}
    kept = pq.read_table(result.pages).to_pylist()
    assert kept[0]["path"] == "long.html" and kept[0]["num_code_blocks"] == 3
    dropped = pq.read_table(tmp_path / "out" / "dropped.parquet").to_pylist()
    assert {(d["path"], d["reason"]) for d in dropped} == {("short.html", "too_few_words"),
                                                           ("empty.html", "empty")}


def test_cli_extract_on_real_pages(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["curate", "web", "extract", str(PAGES), "--output", str(tmp_path / "out"),
                 "--no-lineage"])
    assert code in (0, None)
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["pages"] == 46 and stats["kept"] == 46
    assert stats["with_code_tags"] == 34 and stats["code_blocks"] > 50
    assert "kept 46 of 46 pages" in capsys.readouterr().out
    assert main(["curate", "web", "extract", str(tmp_path / "nope"), "--output",
                 str(tmp_path / "o2"), "--no-lineage"]) == 2


@pytest.mark.parametrize(("location", "text", "hints", "expected"), [
    ("https://stackoverflow.com/questions/1/how", "", (), "qa-forum"),
    ("https://shop.example.com/products/42", "", (), "e-commerce"),
    ("https://docs.python.org/3/library/os.html", "", (), "documentation"),
    ("https://example.dev/blog/2024/03/rust-tips", "", (), "blog-tutorial"),
    ("https://example.com/p/42", "", ("price", "cart"), "e-commerce"),
    ("https://example.com/p/42", "", ("question", "answer", "vote"), "qa-forum"),
    ("https://example.com/p/42", "Blue shirt. Add to cart. $19.99", (), "e-commerce"),
    ("https://example.com/p/42", "In this tutorial we build a parser", (), "blog-tutorial"),
    ("https://example.com/p/42", "Nothing telling here", ("post",), "other"),
])
def test_tag_category(location: str, text: str, hints: tuple[str, ...], expected: str) -> None:
    assert tag_category(location, text, hints) == expected
