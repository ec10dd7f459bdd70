"""HTML -> plain text that keeps code blocks verbatim, on the stdlib ``html.parser``.

Web pages are code-related mostly through their ``<pre>``/``<code>`` blocks, and collapsing
their whitespace (as generic text extractors do) destroys the code. Here prose is collapsed
into lines, headings and list items keep light markdown markers, and every code block is
emitted verbatim inside a ``` fence, with the language when the page names it
(``class="language-xx"``, ``lang-xx``, Sphinx's ``highlight-xx`` on an ancestor).
Boilerplate (scripts, styles, navigation, footers) is dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

#: Content of these elements never reaches the text.
SKIP_TAGS = frozenset({"script", "style", "noscript", "template", "svg", "nav", "footer",
                       "iframe", "button", "select", "textarea", "head", "aside", "form"})
#: Elements without end tags: they never enter the open-element stack.
VOID_TAGS = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
                       "meta", "param", "source", "track", "wbr"})
#: Elements that start a new line of text.
BLOCK_TAGS = frozenset({"p", "div", "section", "article", "main", "header", "ul", "ol",
                        "table", "tr", "blockquote", "dl", "dt", "dd", "figure", "figcaption",
                        "h1", "h2", "h3", "h4", "h5", "h6", "li", "br", "hr", "td", "th",
                        "body", "caption", "details", "summary"})
_SKIP_ROLES = frozenset({"navigation", "contentinfo", "banner", "search"})
_LANG_CLASS = re.compile(r"(?:^|\s)(?:language|lang|highlight-source|highlight|brush:?)-?"
                         r"([A-Za-z][A-Za-z0-9_+#.-]*)")
_NOT_LANGUAGES = frozenset({"default", "none", "text", "plain", "plaintext", "nohighlight",
                            "notranslate"})
#: class/id/itemprop words kept as structure hints for the category tagger.
HINT_WORDS = ("price", "cart", "product", "checkout", "question", "answer", "vote", "comment",
              "post", "blog", "author", "toc", "api", "reference", "docs", "sidebar", "forum",
              "reply", "thread", "sku")
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


@dataclass
class ExtractedPage:
    """The text of one page plus what the recall stage and the tagger look at."""

    title: str
    text: str
    has_code_tags: bool
    num_code_blocks: int
    num_words: int
    hints: list[str] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    language: str | None
    skip: bool


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[_Open] = []
        self.lines: list[str] = []   # finished output blocks
        self.inline: list[str] = []  # prose of the current line
        self.code: list[str] | None = None  # verbatim buffer while inside a code block
        self.code_tag = ""
        self.code_language: str | None = None
        self.code_depth = 0
        self.title: list[str] = []
        self.in_title = False
        self.has_code_tags = False
        self.num_code_blocks = 0
        self.hints: set[str] = set()

    # -- element bookkeeping -------------------------------------------------------------
    def _skipping(self) -> bool:
        return any(item.skip for item in self.stack)

    def _inherited_language(self) -> str | None:
        for item in reversed(self.stack):
            if item.language:
                return item.language
        return None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self._collect_hints(values)
        if tag == "title":
            self.in_title = True
        if tag in ("pre", "code"):
            self.has_code_tags = True
        if tag in VOID_TAGS:
            if tag in ("br", "hr") and self.code is None:
                self._end_line()
            elif tag == "br" and self.code is not None:
                self.code.append("\n")
            return
        skip = tag in SKIP_TAGS or values.get("role", "") in _SKIP_ROLES
        if tag == "header" and not any(i.tag in ("article", "main") for i in self.stack):
            skip = True  # a page header outside the content is site chrome
        self.stack.append(_Open(tag, _language_of(values.get("class", "")), skip))
        if self._skipping():
            return
        if self.code is not None:
            if tag == self.code_tag:
                self.code_depth += 1
            if tag == "code" and self.code_language is None:
                self.code_language = self.stack[-1].language
            if tag == "code" and self.code and not self.code[-1].endswith("\n"):
                self.code.append("\n")  # sibling <code> variants inside one <pre>
            return
        if tag == "pre":
            self._start_code("pre")
        elif tag == "code":
            self._start_code("code")  # inline or block: decided by its content at the end
        elif tag in BLOCK_TAGS:
            self._end_line()
            if tag == "li":
                self.inline.append("- ")
            elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                self.inline.append("#" * int(tag[1]) + " ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in VOID_TAGS:
            return
        if self.code is not None and tag == self.code_tag:
            if self.code_depth:
                self.code_depth -= 1
            else:
                self._finish_code()
        elif tag in BLOCK_TAGS and self.code is None and not self._skipping():
            self._end_line()
        for depth in range(len(self.stack) - 1, -1, -1):  # tolerate unclosed children
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                break

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if self._skipping():
            return
        if self.code is not None:
            self.code.append(data)
        else:
            self.inline.append(data)

    # -- output --------------------------------------------------------------------------
    def _collect_hints(self, values: dict[str, str]) -> None:
        blob = " ".join(values.get(k, "") for k in ("class", "id", "itemprop", "itemtype"))
        if blob:
            lowered = blob.lower()
            self.hints.update(word for word in HINT_WORDS if word in lowered)

    def _start_code(self, tag: str) -> None:
        self.code = []
        self.code_tag = tag
        self.code_depth = 0
        self.code_language = self._inherited_language()

    def _finish_code(self) -> None:
        body = "".join(self.code or []).strip("\n").rstrip()
        language = self.code_language or ""
        self.code = None
        if not body.strip():
            return
        if self.code_tag == "code" and "\n" not in body:
            self.inline.append(f"`{body.strip()}`")  # inline code stays in its sentence
            return
        self._end_line()
        self.num_code_blocks += 1
        fence = "`" * max(3, _longest_backtick_run(body) + 1)
        self.lines.append(f"{fence}{language}\n{body}\n{fence}")

    def _end_line(self) -> None:
        line = _SPACE.sub(" ", "".join(self.inline)).strip()
        self.inline = []
        if line and line not in ("-", "#", "##", "###", "####", "#####", "######"):
            self.lines.append(line)

    def result(self) -> ExtractedPage:
        if self.code is not None:
            self._finish_code()  # an unterminated <pre> still keeps its code
        self._end_line()
        text = "\n".join(self.lines)
        return ExtractedPage(
            title=_SPACE.sub(" ", "".join(self.title)).strip(),
            text=text,
            has_code_tags=self.has_code_tags,
            num_code_blocks=self.num_code_blocks,
            num_words=count_words(text),
            hints=sorted(self.hints),
        )


def _language_of(classes: str) -> str | None:
    match = _LANG_CLASS.search(classes)
    if not match:
        return None
    language = match.group(1).lower()
    return None if language in _NOT_LANGUAGES else language


def _longest_backtick_run(text: str) -> int:
    runs = re.findall(r"`+", text)
    return max((len(run) for run in runs), default=0)


def count_words(text: str) -> int:
    """Words of prose and code alike; fence marker lines (```lang) do not count."""
    body = "\n".join(line for line in text.splitlines() if not line.startswith("```"))
    return len(_WORD.findall(body))


def extract(html: str) -> ExtractedPage:
    """Parse one page; malformed HTML degrades gracefully (html.parser never raises on it)."""
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    return parser.result()
