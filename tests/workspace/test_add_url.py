"""A portal pull becomes a version whose source is the URL."""

from __future__ import annotations

import pytest

from ridp.errors import FieldError, PermissionDeniedError
from tests.ingest.test_remote import Portal, allowed, portal  # noqa: F401 (fixtures)


def test_socrata_pull_is_ingested_with_its_url(people, allowed):  # noqa: F811
    from ridp.workspace.datasets import add_url, versions

    url = f"{allowed}/resource/abcd-1234.json"
    outcome = add_url(people.ana, url, city="springfield", name="requests")
    v = outcome.version
    assert outcome.created and v.rows == 25 and v.source_name == url and v.source_format == "ndjson"
    again = add_url(people.ana, url, city="springfield", name="requests")
    assert not again.created and len(versions(people.ana, "springfield", "requests")) == 1


def test_viewers_cannot_pull_and_unsafe_urls_are_refused(people):
    from ridp.workspace.datasets import add_url

    with pytest.raises(PermissionDeniedError):
        add_url(people.vera, "https://data.example.org/x.csv", city="springfield")
    with pytest.raises(FieldError, match="only https"):
        add_url(people.ana, "http://data.example.org/x.csv", city="springfield")
    assert Portal is not None
