"""The integration fixtures live in `tests.controlplane.pytest_plugin`, loaded by tests/conftest.py.

They are shared with tests/differential, which runs the same scenarios against the fake API
server and the real control plane.
"""
