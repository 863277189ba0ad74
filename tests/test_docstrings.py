"""The docstring parser: descriptions and parameter texts from Google, NumPy and Sphinx styles."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from skilldeck.schema.docstrings import Docstring, clean_docstring, parse_docstring

GOOGLE = """Classify a support ticket.

    Reads the ticket and picks one label.

    Args:
        text (str): The ticket body, as the
            customer wrote it.
        labels: Candidate labels.
        threshold (float, optional): Minimum confidence.

    Returns:
        The chosen label.

    Raises:
        ValueError: When there are no labels.

    Example:
        >>> classify("refund please", ["billing"])
    """

NUMPY = """Classify a support ticket.

    Reads the ticket and picks one label.

    Parameters
    ----------
    text : str
        The ticket body, as the
        customer wrote it.
    labels : list of str
        Candidate labels.
    low, high : float
        The accepted confidence range.
    flag

    Returns
    -------
    str
        The chosen label.

    Notes
    -----
    Labels are case-sensitive.
    """

SPHINX = """Classify a support ticket.

    Reads the ticket and picks one label.

    :param text: The ticket body, as the
        customer wrote it.
    :type text: str
    :param list[str] labels: Candidate labels.
    :param threshold: Minimum confidence, e.g. 0.5 at 10:30.
    :returns: The chosen label.
    :rtype: str
    :raises ValueError: When there are no labels.
    """


def test_google_docstring_gives_each_parameter_its_text_without_the_type():
    doc = parse_docstring(GOOGLE)
    assert doc.style == "google"
    assert doc.params == {
        "text": "The ticket body, as the customer wrote it.",
        "labels": "Candidate labels.",
        "threshold": "Minimum confidence.",
    }


def test_google_description_drops_args_returns_and_raises_but_keeps_examples():
    doc = parse_docstring(GOOGLE)
    assert doc.description.startswith("Classify a support ticket.\n\nReads the ticket")
    assert "Args" not in doc.description
    assert "Returns" not in doc.description
    assert "ValueError" not in doc.description
    assert 'Example:\n    >>> classify("refund please", ["billing"])' in doc.description
    assert doc.returns == "The chosen label."


@pytest.mark.parametrize("header", ["Arguments", "Parameters", "Keyword Args", "Attributes"])
def test_google_parameter_sections_go_by_several_names(header: str):
    doc = parse_docstring(f"Do it.\n\n{header}:\n    size: How many.\n")
    assert doc.params == {"size": "How many."}
    assert doc.description == "Do it."


def test_google_star_arguments_are_named_without_their_stars():
    doc = parse_docstring("Do it.\n\nArgs:\n    *items: The items.\n    **extra: More.\n")
    assert doc.params == {"items": "The items.", "extra": "More."}


def test_a_line_with_text_after_its_colon_is_prose_not_a_section():
    doc = parse_docstring("Do it.\n\nNote: this matters.\nArgs: none here\n")
    assert doc.style == "plain"
    assert doc.description == "Do it.\n\nNote: this matters.\nArgs: none here"
    assert doc.params == {}


def test_numpy_docstring_gives_each_parameter_its_text():
    doc = parse_docstring(NUMPY)
    assert doc.style == "numpy"
    assert doc.params == {
        "text": "The ticket body, as the customer wrote it.",
        "labels": "Candidate labels.",
        "low": "The accepted confidence range.",
        "high": "The accepted confidence range.",
        "flag": "",
    }


def test_numpy_description_drops_parameters_and_returns_but_keeps_notes():
    doc = parse_docstring(NUMPY)
    assert doc.description == (
        "Classify a support ticket.\n\nReads the ticket and picks one label.\n\n"
        "Notes\n-----\nLabels are case-sensitive."
    )
    assert doc.returns == "The chosen label."


def test_numpy_returns_without_a_description_gives_the_type_line():
    doc = parse_docstring("Do it.\n\nReturns\n-------\nint\n")
    assert doc.returns == "int"


def test_sphinx_docstring_gives_each_parameter_its_text():
    doc = parse_docstring(SPHINX)
    assert doc.style == "sphinx"
    assert doc.params == {
        "text": "The ticket body, as the customer wrote it.",
        "labels": "Candidate labels.",
        "threshold": "Minimum confidence, e.g. 0.5 at 10:30.",
    }
    assert doc.returns == "The chosen label."


def test_sphinx_description_drops_every_field():
    doc = parse_docstring(SPHINX)
    assert doc.description == (
        "Classify a support ticket.\n\nReads the ticket and picks one label."
    )


def test_sphinx_instance_variables_describe_attributes():
    doc = parse_docstring("A point.\n\n:ivar x: Horizontal.\n:var y: Vertical.\n")
    assert doc.params == {"x": "Horizontal.", "y": "Vertical."}


def test_docstring_without_sections_is_all_description():
    doc = parse_docstring("""Summarise the text.

        Keeps it short.
        """)
    assert doc == Docstring(description="Summarise the text.\n\nKeeps it short.", style="plain")


@pytest.mark.parametrize("doc", [None, "", "   \n  "])
def test_missing_or_blank_docstring_gives_an_empty_description(doc: str | None):
    assert parse_docstring(doc) == Docstring()


def test_runs_of_blank_lines_collapse_to_one():
    doc = parse_docstring("One.\n\n\n\nTwo.\n\nArgs:\n    x: X.\n")
    assert doc.description == "One.\n\nTwo."


@pytest.mark.parametrize("doc", [GOOGLE, NUMPY, SPHINX, "\n  Indented first.\n    more\n  back\n"])
def test_clean_docstring_matches_inspect_cleandoc(doc: str):
    assert clean_docstring(doc) == inspect.cleandoc(doc)


def test_parsing_loads_no_docstring_library():
    code = (
        "import sys; import skilldeck.schema.docstrings as d; "
        "d.parse_docstring('x\\n\\nArgs:\\n  a: b');"
        "print(sorted(m for m in ('docstring_parser', 'griffe') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
