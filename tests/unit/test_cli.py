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


def test_demo_shows_the_timeline_a_pass_and_a_fast_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo tracks the image-pull cycle on the embedded server and explains a failure."""
    monkeypatch.delenv("KUBECONFIG", raising=False)
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    assert "in-process API server" in out
    assert "passed after" in out
    rows = [line.split() for line in out.splitlines() if line.strip().startswith("+")]
    states = [row[3] for row in rows if len(row) > 3]
    assert states.count("ErrImagePull") >= 2
    assert states.count("ImagePullBackOff") >= 2
    assert "TransitionMismatchError" in out
    assert "(at the first ErrImagePull, not at the timeout)" in out
    assert "failed here" in out
    # The failing report carries the kubelet's Events and the container's classification.
    assert "Normal  Scheduled: Successfully assigned default/kwait-demo to kwait-node" in out
    assert "Warning  Failed (x2): Error: ErrImagePull" in out
    assert 'Normal  BackOff (x2): Back-off pulling image "registry.invalid/' in out
    assert "app        image-pull  0" in out
    assert out.rstrip().endswith("Demo finished as expected.")
