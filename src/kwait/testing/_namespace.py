"""Temporary namespaces for tests on a cluster: created with labels, removed and waited for.

A test that runs in its own namespace cannot see another test's objects, and
everything it created goes away with the namespace. Removal is asynchronous
on a real cluster (the namespace controller deletes the contents first, and
pods take their grace period), so `TemporaryNamespace.delete` watches until
the namespace is gone, within a bound, and says what is left when it is not.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from typing_extensions import Self

from kwait._api import wait_for
from kwait._errors import ApiError, KwaitError
from kwait._verdict.failures import ExpectationError

__all__ = ["NAMESPACE_LABEL", "TemporaryNamespace", "namespace_name"]

#: Every temporary namespace carries this label (``"true"``), so leftovers are easy to find:
#: ``kubectl delete namespace -l kwait.dev/temporary=true``.
NAMESPACE_LABEL = "kwait.dev/temporary"

_NOT_FOUND = 404
_CONFLICT = 409
_MAX_NAME = 63
_UNSAFE = re.compile(r"[^a-z0-9-]+")


def _slug(text: str, limit: int) -> str:
    return _UNSAFE.sub("-", text.lower()).strip("-")[:limit].strip("-")


def namespace_name(prefix: str = "kwait", *parts: str, suffix: str | None = None) -> str:
    """Build a valid, unique namespace name (DNS-1123 label, at most 63 characters).

    The parts (a worker id, a test name) are lowered, their other characters
    turned into dashes and cut so that the random suffix always fits.

    >>> namespace_name("kwait", "gw1", "test_Export[yaml]", suffix="x1y2z")
    'kwait-gw1-test-export-yaml-x1y2z'
    >>> len(namespace_name("kwait", "gw0", "t" * 100))
    63
    """
    tail = suffix if suffix is not None else secrets.token_hex(3)
    room = _MAX_NAME - len(tail) - 1
    head = "-".join(s for s in (_slug(p, _MAX_NAME) for p in (prefix, *parts)) if s)
    head = head[:room].strip("-") or "ns"
    return f"{head}-{tail}"


class TemporaryNamespace:
    """A namespace created for one test and deleted after it, waiting until it is gone.

    Use it as a context manager (it deletes on exit), or call `create` and
    `delete`. `delete` returns None when the namespace is gone, or a sentence
    saying why it is not (it never raises: a test's own failure matters more).

    Args:
        api_client: A ``kubernetes.client.ApiClient`` for the cluster.
        name: The namespace's name (see `namespace_name` for a unique one).
        labels: Labels besides ``kwait.dev/temporary: "true"``.
        annotations: Annotations to set.
        timeout: Seconds `delete` waits for the namespace to disappear.
        wait_for_service_account: After creating, wait (within `timeout`) until
            the ``default`` service account exists: a real cluster refuses pods
            until its controller has made it. Off for servers without controllers.

    >>> from kwait.testing import FakeApiServer, TemporaryNamespace
    >>> from kubernetes.config import new_client_from_config_dict
    >>> with FakeApiServer(kubelet=False) as server:
    ...     client = new_client_from_config_dict(server.kubeconfig_dict())
    ...     with TemporaryNamespace(client, "demo-1", timeout=5) as ns:
    ...         ns.name in {o["metadata"]["name"] for o in server.objects("namespaces")}
    ...     ns.name in {o["metadata"]["name"] for o in server.objects("namespaces")}
    ...     client.close()
    True
    False
    """

    def __init__(
        self,
        api_client: Any,
        name: str,
        *,
        labels: Mapping[str, str] | None = None,
        annotations: Mapping[str, str] | None = None,
        timeout: float = 120.0,
        wait_for_service_account: bool = False,
    ) -> None:
        """Describe the namespace; nothing is requested until `create`."""
        self.api_client = api_client
        self.name = name
        self.labels: dict[str, str] = {NAMESPACE_LABEL: "true", **(labels or {})}
        self.annotations: dict[str, str] = dict(annotations or {})
        self.timeout = timeout
        self.wait_for_service_account = wait_for_service_account
        self.created: bool = False

    def _http(self) -> Any:
        from kwait._watch.kube import KubeHttp  # noqa: PLC0415 - the client loads on use

        return KubeHttp(self.api_client)

    def create(self) -> Self:
        """Create the namespace (and wait for its service account, if asked)."""
        body = {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": self.name,
                "labels": self.labels,
                "annotations": self.annotations,
            },
        }
        self._http().send_json(
            "POST", "/api/v1/namespaces", body, request=f"CREATE namespace {self.name}"
        )
        self.created = True
        if self.wait_for_service_account:
            try:
                wait_for(
                    "serviceaccounts",
                    "default",
                    namespace=self.name,
                    until="create",
                    api_client=self.api_client,
                    timeout=self.timeout,
                )
            except ExpectationError as error:
                self.delete()
                raise KwaitError(
                    f"namespace {self.name} got no default service account within "
                    f"{self.timeout:g} s (is the service-account controller running?)"
                ) from error
        return self

    def delete(self) -> str | None:
        """Delete the namespace and wait until it is gone.

        Returns:
            None when it is gone; otherwise why not, with what still holds it.
        """
        http = self._http()
        path = f"/api/v1/namespaces/{self.name}"

        def request_delete() -> None:
            try:
                http.send_json(
                    "DELETE",
                    path,
                    {"propagationPolicy": "Background"},
                    request=f"DELETE namespace {self.name}",
                )
            except ApiError as error:
                if error.status not in {_NOT_FOUND, _CONFLICT}:
                    raise

        try:
            wait_for(
                "namespaces",
                self.name,
                until="delete",
                act=request_delete,
                api_client=self.api_client,
                timeout=self.timeout,
            )
        except ExpectationError:
            return f"still there after {self.timeout:g} s{self._what_holds(http, path)}"
        except (KwaitError, ApiError) as error:
            return f"could not be deleted: {error}"
        return None

    def _what_holds(self, http: Any, path: str) -> str:
        try:
            obj = http.get_json(path, None, request=f"GET namespace {self.name}")
        except (KwaitError, ApiError):
            return ""
        status = obj.get("status") or {}
        notes = [
            f"{c.get('type')}: {c.get('message')}"
            for c in status.get("conditions") or []
            if c.get("status") == "True"
        ]
        phase = status.get("phase", "?")
        return f" (phase {phase}{'; ' if notes else ''}{'; '.join(notes)})"

    def __enter__(self) -> Self:
        """Create the namespace (see `create`)."""
        return self.create()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Delete the namespace (see `delete`); a failed removal is raised unless one is."""
        problem = self.delete()
        if problem is not None and exc is None:
            raise KwaitError(f"namespace {self.name}: {problem}")
