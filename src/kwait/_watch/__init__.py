"""Watching: the API server adapter, watch sources, the watch engine and the recorded timeline.

Data flows API server → `kube` (the only module that imports ``kubernetes``) → `source`
(the protocol every source speaks; `scripted` plays one without a server) → `engine`
(LIST, WATCH from the list's resourceVersion, reconnect, 410 → relist with a gap) →
`timeline` (the `Recorder` and the per-object timelines).
"""
