"""Failure signs: stop a wait the moment it can no longer succeed, and say why.

Give a wait (or any expectation) ``fail_on=`` one sign or several (any one
ends it), in the same words as ``until=``: a sign from this catalogue, its
name, a ``kubectl wait --for`` form, or a predicate. ``fail_fast=True`` (or
``KWAIT_FAIL_FAST=1``, or pytest's ``--kwait-fail-fast``) applies, on every
object, the signs of its kind that cannot clear by themselves. The wait then
raises `kwait.errors.FailureSignError`, whose summary names the sign, its
resourceVersion and time, and how long before the timeout it stopped.

Applied by ``fail_fast`` (they cannot clear by themselves): `job_failed`,
`job_failure_target`, `pod_failed`, `completed_without_ready`,
`invalid_image_name`. Only on request (they might clear): `err_image_never_pull`,
`create_container_config_error`, `create_container_error`,
`image_pull_failing` (N attempts), `crash_loop` (N restarts), `oom_killed`,
`progress_deadline_exceeded`, `provisioning_failed` (N Events),
`unschedulable` (grace period). Each function's docstring says what it reads
and why it is safe.

>>> from kwait import signs
>>> signs.crash_loop(5), signs.named("job-failed"), signs.defaults_for("Job")
(crash_loop(5), job_failed(), [job_failed(), job_failure_target()])
"""

from __future__ import annotations

from kwait._match.signs import (
    FAIL_FAST_ENV,
    Hit,
    Sign,
    SignCheck,
    as_sign,
    catalogue,
    completed_without_ready,
    crash_loop,
    create_container_config_error,
    create_container_error,
    defaults_for,
    err_image_never_pull,
    fail_fast_default,
    image_pull_failing,
    invalid_image_name,
    job_failed,
    job_failure_target,
    named,
    oom_killed,
    pod_failed,
    progress_deadline_exceeded,
    provisioning_failed,
    set_fail_fast_default,
    unschedulable,
)
from kwait._publish import publish

__all__ = [
    "FAIL_FAST_ENV",
    "Hit",
    "Sign",
    "SignCheck",
    "as_sign",
    "catalogue",
    "completed_without_ready",
    "crash_loop",
    "create_container_config_error",
    "create_container_error",
    "defaults_for",
    "err_image_never_pull",
    "fail_fast_default",
    "image_pull_failing",
    "invalid_image_name",
    "job_failed",
    "job_failure_target",
    "named",
    "oom_killed",
    "pod_failed",
    "progress_deadline_exceeded",
    "provisioning_failed",
    "set_fail_fast_default",
    "unschedulable",
]

publish(__name__, globals(), __all__)
