"""Test-suite wide configuration: the control-plane fixtures, available to every test folder.

Only tests marked ``integration`` may use them (the plugin refuses others at collection).
"""

pytest_plugins = ["tests.controlplane.pytest_plugin"]
