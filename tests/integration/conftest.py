"""The integration fixtures live in `tests.controlplane.pytest_plugin`, loaded by tests/conftest.py.

They are shared with tests/differential, which runs the same scenarios against the fake API
server and the real control plane.
"""

from typing import Any

import pytest


@pytest.fixture(scope="session")
def kwait_cluster_api_client(kube_api_client: Any) -> Any:
    """The plugin's cluster client, pointed at the session's control plane (or KUBECONFIG one).

    ``kwait_namespace`` then makes its temporary namespaces there.
    """
    return kube_api_client
