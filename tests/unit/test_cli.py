"""The command line the README tells a new user to run."""

from __future__ import annotations

import pytest

from kwait.__main__ import main


def test_unknown_command_is_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    """An unknown subcommand exits with argparse's usage error, not a traceback."""
    with pytest.raises(SystemExit) as exc:
        main(["nonsense"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
