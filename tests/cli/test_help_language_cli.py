"""`--help` and argparse's usage mistakes in the run's language: every command's help goes through
the catalog (the pseudo-locale finds a line that does not), Chinese help fits an 80-column
terminal, a usage mistake is one Chinese line, and English help is argparse's own, unchanged."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterator

import pytest

from collector_tui import cli, i18n
from collector_tui.cli.parser import build_parser, cell_width, wrap_cells
from tui import pseudo

Run = Callable[..., tuple[int, str, str]]


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _commands(child, (*path, name))


COMMANDS = [path for path, _ in _commands(build_parser())]


def _help(capsys: pytest.CaptureFixture[str], *arguments: str) -> str:
    capsys.readouterr()
    assert cli.main([*arguments, "--help"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def _parser_of(path: tuple[str, ...]) -> argparse.ArgumentParser:
    return dict(_commands(build_parser()))[path]


def _contract_words(parser: argparse.ArgumentParser) -> set[str]:
    """What a help rightly shows in English: the program and command names, option names,
    metavars, choices (the command line's contract)."""
    texts = [parser.prog]
    for action in parser._actions:
        texts += action.option_strings
        texts += [str(action.dest), str(action.dest).upper()]  # argparse's default metavar
        metavar = action.metavar
        texts += list(metavar) if isinstance(metavar, tuple) else [str(metavar or "")]
        texts += [str(choice) for choice in action.choices or ()]
    return set(pseudo._WORD.findall(" ".join(texts)))


_MESSAGE = re.compile(f"{pseudo.OPEN}[^{pseudo.CLOSE}]*{pseudo.CLOSE}")


def _untranslated(help_text: str, allowed: set[str]) -> list[str]:
    # A message wrapped over several lines is one bracket across them: blank it out in the whole
    # text (newlines kept) before reading the lines.
    blanked = _MESSAGE.sub(lambda found: re.sub(r"[^\n]", " ", found.group()), help_text)
    lines = zip(help_text.splitlines(), blanked.splitlines(), strict=True)
    return [
        line
        for line, rest in lines
        if any(word not in allowed for word in pseudo._WORD.findall(rest))
    ]


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "top")
def test_every_help_line_goes_through_the_catalog(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pseudo.install()
    monkeypatch.setenv("LC_ALL", pseudo.PSEUDO)  # the environment's language reaches --help
    monkeypatch.setenv("COLUMNS", "100")
    shown = _help(capsys, *path)
    assert pseudo.OPEN in shown
    assert _untranslated(shown, _contract_words(_parser_of(path))) == []


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "top")
def test_chinese_help_fits_80_columns(
    path: tuple[str, ...], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    shown = _help(capsys, "--lang", "zh_CN", *path)
    lines = shown.splitlines()
    assert lines[0].startswith(f"用法：collector-tui {' '.join(path)}".rstrip())
    assert re.search(r"[\u4e00-\u9fff]", shown)
    usage = lines[: next(i for i, line in enumerate(lines) if not line.strip())]
    # The usage is argparse's layout of ASCII parts (one too long for any line passes the edge,
    # as in English); the help under it fits.
    assert [line for line in lines[len(usage) :] if cell_width(line) > 80] == []
    # The usage's next lines start under the first argument, counted in cells.
    first = lines[0].split(" [", 1)[0]
    indent = cell_width(first) + 1
    for line in usage[1:]:
        assert len(line) - len(line.lstrip(" ")) == indent, usage


def test_top_level_and_a_command_in_chinese(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    top = _help(capsys, "--lang", "zh_CN")
    assert "位置参数:" in top and "选项:" in top
    assert "  -h, --help     显示此帮助信息并退出" in top
    assert "    queue        输出催收员的拨打队列" in top
    assert "  --version      显示程序的版本号并退出" in top
    # --lang after the command, and the environment's language, work too.
    queue = _help(capsys, "queue", "--lang", "zh_CN")
    assert "  --agent NAME   谁的队列（默认：你的）" in queue
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert _help(capsys, "queue") == queue


def test_english_help_is_argparses_own(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    top = _help(capsys, "--db", "x.db")
    assert top.startswith("usage: collector-tui [-h]")
    assert "\npositional arguments:\n" in top and "\noptions:\n" in top
    assert "  -h, --help     show this help message and exit" in top
    assert not re.search(r"[^\x00-\x7f]", top)
    # The cell-counting formatter leaves text without wide characters to argparse.
    for _path, parser in _commands(build_parser()):
        ours = parser.format_help()
        parser.formatter_class = argparse.HelpFormatter
        assert parser.format_help() == ours


@pytest.mark.parametrize(
    ("arguments", "english", "chinese"),
    [
        (["queue", "--bogus"], "unrecognized arguments: --bogus", "无法识别的参数：--bogus"),
        (["queue", "--agent"], "argument --agent: expected one argument", "需要一个参数值"),
        (["log", "REF-1"], "the following arguments are required", "缺少以下必需参数"),
        (["qeueu"], "invalid choice: 'qeueu'", "无效的选项：'qeueu'"),
        (["queue", "--limit", "x"], "not a whole number: 'x'", "不是整数：'x'"),
    ],
)
def test_usage_mistakes_are_one_line_in_the_runs_language(
    arguments: list[str],
    english: str,
    chinese: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for language, expected in (("en", english), ("zh_CN", chinese)):
        capsys.readouterr()
        assert cli.main([*arguments, "--lang", language]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1 and expected in captured.err, captured.err
        prefix = "collector-tui：错误：" if language == "zh_CN" else "collector-tui: error: "
        assert captured.err.startswith(prefix)


def test_wrapping_by_cells() -> None:
    text = "界面语言：zh_CN 或 en（默认：用户的设置，其次为环境的区域设置）"
    lines = wrap_cells(text, 20)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(cell_width(line) <= 20 for line in lines)
    # Closing punctuation never starts a line; a word is never cut.
    assert not any(line[0] in "，。；：）" for line in lines)
    assert any("zh_CN" in line for line in lines)
    assert wrap_cells("$COLLECTOR_PASSWORD 或提示输入", 10)[0] == "$COLLECTOR_PASSWORD"
    with i18n.language("zh_CN"):
        assert cell_width(i18n.gettext("usage: ")) == 6


@pytest.mark.parametrize(
    ("arguments", "chinese"),
    [
        (
            ["contact", "add", "REF-1", "--address", "1 Main St", "--type", "mobile"],
            "--type 只能与 --phone 一起使用",
        ),
        (["payment", "reverse", "123"], "payment reverse 需要 --reason bounced|chargeback|error"),
        (["plan", "cancel", "nope", "--reason", "x"], "不是 ID（UUID）：'nope'"),
    ],
)
def test_the_commands_own_usage_mistakes_in_chinese(
    arguments: list[str], chinese: str, cli_runner: Callable[[str], Run]
) -> None:
    code, out, err = cli_runner("root")("--lang", "zh_CN", *arguments)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and chinese in err, err
