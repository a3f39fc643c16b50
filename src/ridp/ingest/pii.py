"""Suggesting which columns hold personal data, from their names and their values.

Classes, from least to most protected: ``public``, ``internal``, ``personal``
(identifies or locates a resident: names, e-mail, phone, date of birth, street
addresses with house numbers, exact coordinates of homes) and ``sensitive``
(identity numbers such as SSNs, card numbers). Values are checked with
Presidio's pattern recognizers, offline: no language model is loaded and the
public-suffix list is the copy that ships with tldextract. A suggestion is only
a suggestion: a person confirms it (``ridp data classify``).

Examples
--------
>>> suggest_classification("caller_email", ["ana@example.org", None]).classification
'personal'
>>> suggest_classification("service_request_id", ["1001", "1002"]).classification
'internal'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

__all__ = ["CLASSES", "Classification", "ColumnClassification", "suggest_classification"]

Classification = Literal["public", "internal", "personal", "sensitive"]
CLASSES: tuple[Classification, ...] = ("public", "internal", "personal", "sensitive")

_NAME_PERSONAL = re.compile(
    r"^(first|last|full|given|family|sur|middle|contact|caller|owner|resident|person|customer)?_?name$|caller|contact|"
    r"complainant|reporter|requester|requestor|"
    r"resident|owner_?name|e_?mail|phone|telephone|mobile|cell|dob|birth|age$|gender|sex$|ethnic|race$|"
    r"^(incident_|street_|home_|location_|full_|mailing_)?address(_line_?\d)?$|^location$|apartment|unit_?number",
    re.IGNORECASE,
)
_NAME_SENSITIVE = re.compile(
    r"ssn|social_?security|passport|licen[cs]e_?(no|number)|tax_?id|card_?number|medical|diagnos", re.IGNORECASE
)
_NAME_COORDINATE = re.compile(
    r"^(lat|latitude|lon|long|lng|longitude|x_?coord\w*|y_?coord\w*|point|geolocation|location_?point)$", re.IGNORECASE
)
_NAME_ID = re.compile(
    r"(id|key|number|num|no|nbr)$|^id|record_?id|case_?id|request_?id|unique_?key|objectid", re.IGNORECASE
)
_HOUSE_NUMBER = re.compile(r"^\s*\d+[A-Za-z]?(?:-\d+)?\s+\w+")
_STREET = re.compile(
    r"\b(?:ST|AVE|RD|BLVD|DR|LN|PL|CT|WAY|HWY|PKWY|TER|SQ|STREET|AVENUE|ROAD|DRIVE|LANE|PLACE)\b", re.IGNORECASE
)
_NUMERIC = re.compile(r"^[\s(\[]*-?\d+(?:\.\d+)?(?:\s*,\s*-?\d+(?:\.\d+)?)?[\s)\]]*$")
_ENTITY_CLASS: dict[str, Classification] = {
    "EMAIL_ADDRESS": "personal",
    "PHONE_NUMBER": "personal",
    "US_SSN": "sensitive",
    "CREDIT_CARD": "sensitive",
    "IP_ADDRESS": "personal",
    "US_PASSPORT": "sensitive",
}


@dataclass(frozen=True)
class ColumnClassification:
    """A suggested class for one column, with the reasons and what was found."""

    column: str
    classification: Classification
    reasons: tuple[str, ...]
    entities: tuple[tuple[str, float], ...] = ()  # (Presidio entity, share of values)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@cache
def _analyzer() -> Any:
    # tldextract would fetch the public-suffix list from the network on first use;
    # point its default extractor at the snapshot it ships before Presidio imports it.
    import tldextract
    import tldextract.tldextract as tld

    tld.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer.nlp_engine.no_op_nlp_engine import NoOpNlpEngine
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        IpRecognizer,
        PhoneRecognizer,
        UsSsnRecognizer,
    )

    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (EmailRecognizer(), PhoneRecognizer(), UsSsnRecognizer(), CreditCardRecognizer(), IpRecognizer()):
        registry.add_recognizer(recognizer)
    engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    engine.load()
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


def _entities(values: Sequence[str]) -> dict[str, float]:
    analyzer = _analyzer()
    counts: dict[str, int] = {}
    for value in values:
        # Presidio scores a bare phone number 0.4 (no context words without a language model).
        found = {r.entity_type for r in analyzer.analyze(text=value, language="en") if r.score >= 0.4}
        for entity in found:
            counts[entity] = counts.get(entity, 0) + 1
    return {k: v / len(values) for k, v in counts.items()} if values else {}


def suggest_classification(name: str, values: Sequence[object], *, max_values: int = 200) -> ColumnClassification:
    """Suggest a class for the column ``name`` from up to ``max_values`` of its values."""
    present = [v for v in values if v is not None and str(v).strip() != ""][:max_values]
    text = [str(v) for v in present]
    norm = _norm(name)
    reasons: list[str] = []
    found: Classification = "internal"

    def raise_to(level: Classification, why: str) -> None:
        nonlocal found
        reasons.append(why)
        if CLASSES.index(level) > CLASSES.index(found):
            found = level

    if _NAME_SENSITIVE.search(norm):
        raise_to("sensitive", f"its name {name!r} suggests an identity number or health data")
    elif _NAME_PERSONAL.search(norm):
        raise_to("personal", f"its name {name!r} suggests a person's name, contact, address or traits")
    numbers = [float(t) for t in text if re.fullmatch(r"-?\d+\.\d+", t.strip())]
    if _NAME_COORDINATE.match(norm) and numbers:
        decimals = sum(1 for t in text if "." in t and len(t.split(".")[1]) >= 4) / max(len(text), 1)
        if decimals >= 0.5:
            raise_to("personal", "exact coordinates (4+ decimals, within about 10 m) can locate a home")
    addresses = sum(1 for t in text if _HOUSE_NUMBER.match(t) and _STREET.search(t))
    if text and not numbers and addresses / len(text) >= 0.5:
        raise_to("personal", "most values are street addresses with house numbers")
    entities: dict[str, float] = {}
    is_id = bool(_NAME_ID.search(norm)) and not _NAME_PERSONAL.search(norm)
    words = [t for t in text if not _NUMERIC.match(t)]  # numbers and coordinate pairs are not free text
    if words and not is_id:
        entities = _entities(words)
        for entity, share in sorted(entities.items(), key=lambda kv: -kv[1]):
            level = _ENTITY_CLASS.get(entity)
            if level is not None and share >= 0.01:
                label = {"US_SSN": "US social security number", "IP_ADDRESS": "IP address"}.get(
                    entity, entity.replace("_", " ").lower()
                )
                raise_to(level, f"{share:.0%} of the values hold a {label}")
    if found == "internal" and not reasons:
        reasons.append("nothing personal found in its name or values")
    return ColumnClassification(name, found, tuple(reasons), tuple(sorted(entities.items())))
