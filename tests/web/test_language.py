"""Every user-facing string is marked for translation: templates and the Python that talks to people."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "src" / "ridp" / "web"
TEMPLATES = sorted((WEB / "templates").rglob("*.html"))
# Symbols that are not words in any language.
NEUTRAL = re.compile(r"^[\s·—–…›◆:/|•,.()\-+×%#*0-9&;]*$")
ATTRIBUTES = ("alt", "aria-label", "title", "placeholder", "data-confirm", "aria-description")


def _visible_text(source: str) -> list[str]:
    text = re.sub(r"\{#.*?#\}", " ", source, flags=re.S)
    text = re.sub(r"\{%\s*blocktranslate.*?\{%\s*endblocktranslate\s*%\}", " ", text, flags=re.S)
    text = re.sub(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", " ", text, flags=re.S)
    text = re.sub(r"\{%.*?%\}", " ", text, flags=re.S)
    text = re.sub(r"\{\{.*?\}\}", " ", text, flags=re.S)
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", "\n", text, flags=re.S)
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    text = re.sub(r"\bridp\b", " ", text)  # the product's name is the same in every language
    return [line.strip() for line in text.splitlines() if not NEUTRAL.match(line)]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(WEB / "templates")))
def test_template_text_is_marked_for_translation(template):
    source = template.read_text()
    untranslated = _visible_text(source)
    assert not untranslated, f"{template.name}: text outside {{% translate %}}: {untranslated[:5]}"
    for attribute in ATTRIBUTES:
        for value in re.findall(rf'\s{attribute}="([^"]*)"', source):
            assert NEUTRAL.match(value) or "{%" in value or value.startswith("{{"), (
                f'{template.name}: {attribute}="{value}" is not translated'
            )


def test_the_check_finds_untranslated_text():
    assert _visible_text("<p>Hello</p>") == ["Hello"]
    assert _visible_text('<p>{% translate "Hello" %}</p><p>{{ name }}</p>') == []


def _python_sources() -> list[Path]:
    return sorted(p for p in WEB.rglob("*.py") if "migrations" not in p.parts)


@pytest.mark.parametrize("source", _python_sources(), ids=lambda p: str(p.relative_to(WEB)))
def test_messages_and_labels_in_python_are_translated(source):
    tree = ast.parse(source.read_text())
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else ""
        if owner == "messages" and name in {"info", "success", "warning", "error"} and len(node.args) >= 2:
            assert not isinstance(node.args[1], (ast.Constant, ast.JoinedStr)), (
                f"{source.name}:{node.lineno}: messages.{name} with an untranslated string"
            )
        for keyword in node.keywords:
            if keyword.arg in {"label", "help_text", "verbose_name"}:
                assert not (isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)), (
                    f"{source.name}:{node.lineno}: {keyword.arg}= is not translated"
                )
