"""A local Kubernetes control plane for kwait's integration tests.

- :mod:`~tests.controlplane.versions`: the pinned versions, in one place;
- :mod:`~tests.controlplane.build`: get the binaries (Go build, cache, pull policy);
- :mod:`~tests.controlplane.cluster`: start, stop and compact a control plane;
- :mod:`~tests.controlplane.stages`: the kwok stages and the pod and node manifests;
- :mod:`~tests.controlplane.proxy`: the TCP fault proxy;
- :mod:`~tests.controlplane.fixtures`: what the pytest fixtures hand to tests;
- ``python -m tests.controlplane``: the command line (``build``, ``up``, ``down`` ...).

See ``docs/explanation/test-ground.md``.
"""
