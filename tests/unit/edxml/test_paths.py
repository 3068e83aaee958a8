"""Element paths: ``/edXML/.../To[2]/OrganId``, the same whether made one at a time or together."""

from __future__ import annotations

import random

from lxml import etree

from edxml._xml import _slow_path, element_path, element_paths

TAGS = ("{u:a/b}x", "{u:a/b}y", "z", "{v}x", "{u:a/b/}x")  # a URI holding "/" must not split

# The definition, element by element: local names, ``[n]`` (1-based) where the parent has
# several of the tag. It is the fallback of element_path; the hand-written paths below pin it.
_naive = _slow_path


def _tree(rng: random.Random, size: int) -> etree._Element:
    root = etree.Element("{u:a/b}r")
    nodes = [root]
    for _ in range(size):
        nodes.append(etree.SubElement(rng.choice(nodes), rng.choice(TAGS)))
    return etree.fromstring(etree.tostring(root))


def test_paths_one_at_a_time_and_together_match_the_definition() -> None:
    rng = random.Random(7)
    for _ in range(200):
        root = _tree(rng, rng.randrange(1, 40))
        elements = list(root.iter())
        expected = [_naive(e) for e in elements]
        assert [element_path(e) for e in elements] == expected
        rng.shuffle(elements)
        assert element_paths(elements) == [_naive(e) for e in elements]


def test_paths_name_repeats_from_one_and_leave_single_names_bare() -> None:
    root = etree.fromstring(b'<r xmlns="u:a/b"><x/><y/><x><z xmlns=""/></x></r>')
    x1, y, x2 = root
    assert element_path(root) == "/r"
    assert [element_path(e) for e in (x1, y, x2, x2[0])] == [
        "/r/x[1]",
        "/r/y",
        "/r/x[2]",
        "/r/x[2]/z",
    ]
    assert element_paths([x2[0], x2[0], y]) == ["/r/x[2]/z", "/r/x[2]/z", "/r/y"]
    assert [_naive(e) for e in (root, x1, y, x2, x2[0])] == [
        "/r",
        "/r/x[1]",
        "/r/y",
        "/r/x[2]",
        "/r/x[2]/z",
    ]
