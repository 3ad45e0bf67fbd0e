"""Markdown to HTML with markdown-it-py: CommonMark + tables, raw HTML disabled (escaped), heading
anchors that match :func:`soc2kit.render.documents.slugify`."""

from __future__ import annotations

import functools

from markdown_it import MarkdownIt

from soc2kit.render.documents import STATEMENT, slugify


@functools.lru_cache(maxsize=1)
def _md() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False, "linkify": False})
    md.enable("table")
    md.enable("strikethrough")
    return md


def markdown_to_html(text: str) -> str:
    md = _md()
    tokens = md.parse(text)
    seen: dict[str, int] = {}
    for i, token in enumerate(tokens):
        if token.type == "heading_open" and i + 1 < len(tokens):
            anchor = slugify(tokens[i + 1].content)
            if anchor in seen:
                seen[anchor] += 1
                anchor = f"{anchor}-{seen[anchor]}"
            else:
                seen[anchor] = 0
            token.attrSet("id", anchor)
        elif token.type == "paragraph_open" and i + 1 < len(tokens):
            m = STATEMENT.match(tokens[i + 1].content)
            if m:
                token.attrSet("id", m.group("id").lower())
                token.attrSet("class", "statement")
        elif token.type == "table_open":
            token.attrSet("class", "table")
    return md.renderer.render(tokens, md.options, {})
