"""`statement CLIENT --from --to --pdf FILE`: the statement as a PDF whose text holds the same
figures as `--csv` (in-process through `cli.main`, on the test database)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

Run = Callable[..., tuple[int, str, str]]
PERIOD = ("--from", "2026-11-01", "--to", "2026-11-30")


@pytest.fixture
def run(cli_runner: Callable[[str], Run]) -> Run:
    return cli_runner("sam")


def _text(path: Path) -> str:
    reader = PdfReader(io.BytesIO(path.read_bytes()))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_statement_pdf_holds_the_figures(run: Run, place, tmp_path: Path) -> None:  # noqa: ANN001
    place("招商-1", client="招商银行", principal=500_000)
    place("招商-2", client="招商银行", principal=50_000, currency="USD", country="US")
    assert run("payment", "招商-1", "1234.56", user="alice")[0] == 0
    assert run("payment", "招商-2", "20.00", user="alice")[0] == 0
    target = tmp_path / "statement.pdf"
    code, out, err = run("statement", "招商银行", *PERIOD, "--pdf", str(target))
    assert (code, err) == (0, ""), err
    assert out.strip() == f"wrote the statement of 招商银行 to {target}"
    text = _text(target)
    flat = " ".join(text.split())
    assert "Statement of 招商银行" in flat
    assert "2026-11-01 to 2026-11-30" in flat
    assert "招商-1" in flat and "招商-2" in flat
    assert "1,234.56" in flat and "20.00" in flat
    assert "CNY" in flat and "USD" in flat
    assert "net to remit" in flat


def test_statement_pdf_refusals(run: Run, place, tmp_path: Path) -> None:  # noqa: ANN001
    place("A-1")
    code, out, err = run("statement", "ACME Bank", *PERIOD, "--pdf", str(tmp_path / "no" / "x.pdf"))
    assert (code, out) == (1, "") and err.count("\n") == 1 and "cannot write" in err
    code, _, err = run("statement", "ACME Bank", *PERIOD, "--pdf", "x.pdf", "--json")
    assert code == 2 and "not allowed with" in err
    code, out, err = run(
        "statement", "ACME Bank", *PERIOD, "--pdf", str(tmp_path / "a.pdf"), user="alice"
    )
    assert code == 1 and "only a supervisor" in err
    assert not (tmp_path / "a.pdf").exists()
    # No money in the period: a statement that says so.
    code, _, err = run("statement", "ACME Bank", *PERIOD, "--pdf", str(tmp_path / "empty.pdf"))
    assert code == 0, err
    assert "No money was received" in " ".join(_text(tmp_path / "empty.pdf").split())
