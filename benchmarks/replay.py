"""A replay API server for benchmarks: serves one recorded watch stream, in its own process.

The server answers just enough of the Kubernetes API for a client to LIST and WATCH pods in
one namespace: discovery (``/api``, ``/api/v1``, ``/apis``), a LIST that returns the initial
objects at resourceVersion ``1``, and a WATCH that streams the recorded events as fast as the
socket takes them, then holds the connection open (a watch from the last resourceVersion on
gets nothing more). Running it in another process means a benchmark measures only the
client's side.

Streams are generated, realistic pods:

- ``pod3k``: a pod of about 3.2 KB as kubectl shows it (labels, owner, two containers with
  env, resources and mounts, volumes, conditions, container statuses);
- ``pod6k``: the same with ``managedFields`` as kube-apiserver sends them (about 6.4 KB).

Each event changes the status (a restart count and a condition time), as a kubelet would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

NAMESPACE = "bench"


def pod(
    i: int, *, objects: int = 1, managed_fields: bool = False, ready_at: int | None = None
) -> dict[str, Any]:
    """The `i`-th state of a realistic pod (one of `objects` pods, by `i % objects`).

    The pod's restart count is ``i // objects``; with `ready_at`, its Ready condition is
    False until the restart count reaches it.
    """
    n = i % objects
    name = f"web-{n}"
    restarts = i // objects
    labels = {
        "app.kubernetes.io/name": "web",
        "app.kubernetes.io/instance": "web-prod",
        "app.kubernetes.io/component": "frontend",
        "pod-template-hash": "7d9c5b8f6",
    }
    env = [
        {"name": "LOG_LEVEL", "value": "info"},
        {"name": "PORT", "value": "8080"},
        {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {
            "name": "DB_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}},
        },
    ]
    container = {
        "name": "app",
        "image": "registry.example/web/app:1.27.3",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "env": env,
        "resources": {
            "limits": {"cpu": "500m", "memory": "256Mi"},
            "requests": {"cpu": "100m", "memory": "128Mi"},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/web"},
            {
                "name": "kube-api-access-x7k2p",
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "readOnly": True,
            },
        ],
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "periodSeconds": 10,
            "timeoutSeconds": 1,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }
    sidecar = {
        "name": "proxy",
        "image": "registry.example/mesh/proxy:1.20.1",
        "args": ["proxy", "sidecar", "--domain", "bench.svc.cluster.local"],
        "resources": {"requests": {"cpu": "10m", "memory": "40Mi"}},
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent",
    }
    time = f"2026-11-30T08:{(i // 60) % 60:02d}:{i % 60:02d}Z"
    ready = "True" if ready_at is None or restarts >= ready_at else "False"
    meta: dict[str, Any] = {
        "name": name,
        "generateName": "web-7d9c5b8f6-",
        "namespace": NAMESPACE,
        "uid": f"5f0c2a7e-1b1d-4c55-9a43-{n:012d}",
        "resourceVersion": str(i + 2),
        "creationTimestamp": "2026-11-30T08:00:00Z",
        "labels": labels,
        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-30T07:59:00Z"},
        "ownerReferences": [
            {
                "apiVersion": "apps/v1",
                "kind": "ReplicaSet",
                "name": "web-7d9c5b8f6",
                "uid": "0b8e7c2d-6a55-4a31-8f2e-1d4b9a6c3e21",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
    }
    if managed_fields:
        meta["managedFields"] = _managed_fields(time)
    status_of = {
        "restartCount": restarts,
        "ready": restarts % 2 == 0,
        "started": True,
        "image": container["image"],
        "imageID": "registry.example/web/app@sha256:" + "ab" * 32,
        "containerID": f"containerd://{i:064d}",
    }
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": meta,
        "spec": {
            "containers": [container, sidecar],
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                {
                    "name": "kube-api-access-x7k2p",
                    "projected": {
                        "defaultMode": 420,
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {"configMap": {"name": "kube-root-ca.crt"}},
                        ],
                    },
                },
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "web",
            "nodeName": "node-1",
            "securityContext": {"runAsNonRoot": True, "fsGroup": 2000},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                }
            ],
            "priority": 0,
            "enableServiceLinks": True,
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": t, "status": ready if t == "Ready" else "True", "lastTransitionTime": time}
                for t in ("PodReadyToStartContainers", "Initialized", "Ready", "PodScheduled")
            ],
            "hostIP": "10.0.0.11",
            "podIP": f"10.244.1.{n % 250}",
            "startTime": "2026-11-30T08:00:00Z",
            "containerStatuses": [
                {
                    "name": "app",
                    "state": {"running": {"startedAt": time}},
                    "lastState": {},
                    **status_of,
                },
                {
                    "name": "proxy",
                    "state": {"running": {"startedAt": "2026-11-30T08:00:01Z"}},
                    "lastState": {},
                    "restartCount": 0,
                    "ready": True,
                    "started": True,
                    "image": sidecar["image"],
                    "imageID": "registry.example/mesh/proxy@sha256:" + "cd" * 32,
                    "containerID": "containerd://" + "1" * 64,
                },
            ],
            "qosClass": "Burstable",
        },
    }


def _managed_fields(time: str) -> list[dict[str, Any]]:
    spec: dict[str, Any] = {
        f"f:{k}": {} for k in ("dnsPolicy", "enableServiceLinks", "restartPolicy")
    }
    containers: dict[str, Any] = {
        f'k:{{"name":"{c}"}}': {
            ".": {},
            "f:image": {},
            "f:imagePullPolicy": {},
            "f:name": {},
            "f:resources": {".": {}, "f:limits": {".": {}, "f:cpu": {}, "f:memory": {}}},
            "f:terminationMessagePath": {},
            "f:terminationMessagePolicy": {},
            "f:env": {f'k:{{"name":"{e}"}}': {".": {}, "f:name": {}} for e in ("A", "B", "C")},
        }
        for c in ("app", "proxy")
    }
    status: dict[str, Any] = {
        "f:conditions": {
            f'k:{{"type":"{t}"}}': {
                ".": {},
                "f:lastProbeTime": {},
                "f:lastTransitionTime": {},
                "f:status": {},
                "f:type": {},
            }
            for t in ("ContainersReady", "Initialized", "Ready", "PodScheduled")
        },
        "f:containerStatuses": {},
        "f:hostIP": {},
        "f:phase": {},
        "f:podIP": {},
        "f:podIPs": {".": {}, 'k:{"ip":"10.244.1.7"}': {".": {}, "f:ip": {}}},
        "f:startTime": {},
    }
    return [
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "apiVersion": "v1",
            "time": "2026-11-30T08:00:00Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:generateName": {},
                    "f:labels": {".": {}, "f:app.kubernetes.io/name": {}},
                    "f:ownerReferences": {".": {}, 'k:{"uid":"0b8e7c2d"}': {}},
                },
                "f:spec": {**spec, "f:containers": containers},
            },
        },
        {
            "manager": "kubelet",
            "operation": "Update",
            "apiVersion": "v1",
            "time": time,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": status},
            "subresource": "status",
        },
    ]


def recorded_stream(
    events: int,
    *,
    objects: int = 1,
    managed_fields: bool = False,
    listed: bool = False,
    ready_at: int | None = None,
) -> bytes:
    """The watch stream: the objects ADDED (unless `listed`), then MODIFIED states."""
    lines = []
    first = objects if listed else 0
    for i in range(first, first + events):
        type_ = "ADDED" if i < objects else "MODIFIED"
        obj = pod(i, objects=objects, managed_fields=managed_fields, ready_at=ready_at)
        lines.append(json.dumps({"type": type_, "object": obj}, separators=(",", ":")))
    return ("\n".join(lines) + "\n").encode()


def listed_body(
    objects: int, *, managed_fields: bool = False, ready_at: int | None = None
) -> bytes:
    """A LIST answer at resourceVersion 1 holding the first state of each object."""
    items = [
        pod(i, objects=objects, managed_fields=managed_fields, ready_at=ready_at)
        for i in range(objects)
    ]
    for item in items:
        del item["kind"], item["apiVersion"]  # as kube-apiserver lists them
    body = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "1"},
        "items": items,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _discovery(path: str) -> dict[str, Any] | None:
    if path == "/api":
        return {"kind": "APIVersions", "versions": ["v1"]}
    if path == "/apis":
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
    if path == "/api/v1":
        return {
            "kind": "APIResourceList",
            "groupVersion": "v1",
            "resources": [
                {
                    "name": "pods",
                    "singularName": "pod",
                    "namespaced": True,
                    "kind": "Pod",
                    "verbs": ["get", "list", "watch"],
                    "shortNames": ["po"],
                }
            ],
        }
    return None


def _list_answer(options: dict[str, Any]) -> bytes:
    if options["listed"]:
        return listed_body(
            options["objects"],
            managed_fields=options["managed_fields"],
            ready_at=options["ready_at"],
        )
    empty = {
        "kind": "PodList",
        "apiVersion": "v1",
        "metadata": {"resourceVersion": "1"},
        "items": [],
    }
    return json.dumps(empty).encode()


def serve(port_out: Any, options: dict[str, Any]) -> None:  # noqa: C901 - the handler's verbs
    """Run the server until killed; send its port through `port_out` once listening."""
    events, objects = options["events"], options["objects"]
    managed_fields, listed = options["managed_fields"], options["listed"]
    ready_at, delay = options["ready_at"], options["watch_delay"]
    stream = recorded_stream(
        events, objects=objects, managed_fields=managed_fields, listed=listed, ready_at=ready_at
    )
    last_rv = str((objects if listed else 0) + events + 1)
    empty_list = _list_answer(options)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_: Any) -> None:
            return

        def handle(self) -> None:
            with contextlib.suppress(OSError):
                super().handle()

        def _json(self, body: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            found = _discovery(path)
            if found is not None:
                self._json(json.dumps(found).encode())
                return
            if "watch=true" not in query and "watch=1" not in query:
                self._json(empty_list)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            if f"resourceVersion={last_rv}" not in query:
                if delay:
                    threading.Event().wait(delay)
                for start in range(0, len(stream), 1 << 20):
                    chunk = stream[start : start + (1 << 20)]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.flush()
            # Hold the watch open until the client hangs up.
            with contextlib.suppress(OSError):
                self.connection.settimeout(None)
                while self.connection.recv(1024):
                    pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_out.send(server.server_address[1])
    server.serve_forever()


class ReplayServer:
    """The replay server in a child process: ``with ReplayServer(...) as url: ...``."""

    def __init__(
        self,
        events: int,
        *,
        objects: int = 1,
        managed_fields: bool = False,
        listed: bool = False,
        ready_at: int | None = None,
        watch_delay: float = 0.0,
    ) -> None:
        """Describe the stream; the process starts on enter.

        `listed`: the LIST holds every object's first state and the watch goes on from
        there; `watch_delay`: seconds a watch waits before it streams.
        """
        self.options = {
            "events": events,
            "objects": objects,
            "managed_fields": managed_fields,
            "listed": listed,
            "ready_at": ready_at,
            "watch_delay": watch_delay,
        }
        self._process: Any = None
        self.url = ""

    def __enter__(self) -> str:
        """Start the process and return the server's URL."""
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._process = ctx.Process(
            target=serve,
            args=(child, self.options),
            daemon=True,
        )
        self._process.start()
        if not parent.poll(60):
            raise RuntimeError("the replay server did not start")
        self.url = f"http://127.0.0.1:{parent.recv()}"
        return self.url

    def __exit__(self, *_: object) -> None:
        """Stop the process."""
        if self._process is not None:
            self._process.kill()
            self._process.join(10)


def event_bytes(managed_fields: bool) -> int:  # noqa: FBT001
    """The size of one event line of the stream."""
    return len(recorded_stream(2, managed_fields=managed_fields).split(b"\n")[1])


def main() -> int:
    """Serve a stream on a port until interrupted (for trying clients by hand)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--managed-fields", action="store_true")
    args = parser.parse_args()
    with ReplayServer(args.events, managed_fields=args.managed_fields) as url:
        print(f"serving {args.events} events at {url}; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
