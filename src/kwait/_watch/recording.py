"""Timelines on disk: save what a tracker recorded, load it back elsewhere, replay it.

The format is JSON Lines (UTF-8, one JSON object per line), so a recording can
be written while it happens and read with ``jq`` or any JSON reader:

* line 1, the header: ``{"format": "kwait-timelines", "version": 1, ...}``. A
  reader refuses a newer major ``version`` (with a message saying so) and
  ignores header keys it does not know. Optional keys: ``source`` (what was
  tracked), ``state`` (the state the recording's reader should show, as the
  command line spells it, e.g. ``waiting_reason()``), ``started`` (UTC time).
* then one line per entry, in the order recorded, each with ``"entry"``:

  - ``"observation"``: ``seq``, ``time`` (seconds on the recording's clock),
    ``type`` (``LISTED``/``ADDED``/``MODIFIED``/``DELETED``),
    ``resource_version``, ``identity`` (``uid``, ``name``, ``namespace``,
    ``kind``), ``object`` (the raw object, or null once evicted),
    ``synthetic``, ``generation``, ``evicted``;
  - ``"gap"``: ``seq``, ``time``, ``from_rv``, ``to_rv``, ``reason``,
    ``changed`` (identities whose state differs across the gap);
  - ``"reconnect"``: ``seq``, ``time``, ``resource_version``, ``reason``, ``delay``;
  - ``"report"``: ``report`` (a failed expectation's ``Report.to_json()``),
    written last when the recording ended in a failure, so pictures can show
    where it failed.

  Unknown ``entry`` kinds are skipped, so later versions can add lines.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import msgspec

from kwait._errors import KwaitError
from kwait._watch.timeline import Entry, Gap, Identity, Observation, Reconnect, Recorder, Timeline
from kwait._watch.wire import encode_object

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "Recording",
    "RecordingFormatError",
    "RecordingWriter",
    "entry_from_json",
    "entry_to_json",
    "load_timelines",
    "merge_entries",
    "save_timelines",
]

FORMAT = "kwait-timelines"
FORMAT_VERSION = 1


class RecordingFormatError(KwaitError, ValueError):
    """A file is not a kwait recording, or one of its lines cannot be read.

    >>> import io
    >>> load_timelines(io.StringIO('{"format": "kwait-timelines", "version": 7}'))
    Traceback (most recent call last):
    ...
    kwait.watch.RecordingFormatError: the recording has format version 7; this kwait reads up...
    """


def _identity_json(identity: Identity) -> dict[str, str]:
    return {
        "uid": identity.uid,
        "name": identity.name,
        "namespace": identity.namespace,
        "kind": identity.kind,
    }


def _identity(data: Mapping[str, Any]) -> Identity:
    return Identity(
        uid=str(data.get("uid", "")),
        name=str(data.get("name", "")),
        namespace=str(data.get("namespace", "")),
        kind=str(data.get("kind", "")),
    )


def entry_to_json(entry: Entry) -> dict[str, Any]:
    """Return one recorded entry as the JSON object its line holds.

    >>> pod = {"kind": "Pod", "metadata": {"name": "web", "uid": "u1", "resourceVersion": "7"}}
    >>> rec = Recorder(clock=None)
    >>> line = entry_to_json(rec.add_observation("ADDED", pod))
    >>> line["entry"], line["type"], line["identity"]["name"]
    ('observation', 'ADDED', 'web')
    """
    if isinstance(entry, Observation):
        return {
            "entry": "observation",
            "seq": entry.seq,
            "time": entry.time,
            "type": entry.type,
            "resource_version": entry.resource_version,
            "identity": _identity_json(entry.identity),
            "object": entry.object,
            "synthetic": entry.synthetic,
            "generation": entry.generation,
            "evicted": entry.evicted,
            "deleting": entry.deleting,
        }
    if isinstance(entry, Gap):
        return {
            "entry": "gap",
            "seq": entry.seq,
            "time": entry.time,
            "from_rv": entry.from_rv,
            "to_rv": entry.to_rv,
            "reason": entry.reason,
            "changed": [_identity_json(i) for i in entry.changed],
        }
    return {
        "entry": "reconnect",
        "seq": entry.seq,
        "time": entry.time,
        "resource_version": entry.resource_version,
        "reason": entry.reason,
        "delay": entry.delay,
    }


_TYPES = frozenset({"LISTED", "ADDED", "MODIFIED", "DELETED"})


def entry_from_json(data: Mapping[str, Any]) -> Entry | None:
    """Read one entry line back (None for a line kind this version does not know).

    >>> entry_from_json({"entry": "reconnect", "seq": 3, "time": 1.5,
    ...                  "resource_version": "42", "reason": "stream ended"})
    Reconnect(seq=3, time=1.5, resource_version='42', reason='stream ended', delay=0.0, count=1)
    """
    kind = data.get("entry")
    seq = int(data["seq"])
    time = float(data["time"])
    if kind == "observation":
        type_ = str(data["type"])
        if type_ not in _TYPES:
            raise RecordingFormatError(f"unknown observation type {type_!r}")
        obj = data.get("object")
        return Observation(
            seq=seq,
            time=time,
            type=type_,  # type: ignore[arg-type]  # checked against _TYPES just above
            resource_version=str(data.get("resource_version", "")),
            identity=_identity(data.get("identity") or {}),
            synthetic=bool(data.get("synthetic", False)),
            generation=int(data.get("generation", 0) or 0),
            evicted=bool(data.get("evicted", False)),
            deleting=bool(data.get("deleting", False)),
            raw=encode_object(obj) if isinstance(obj, Mapping) else None,
        )
    if kind == "gap":
        return Gap(
            seq=seq,
            time=time,
            from_rv=str(data.get("from_rv", "")),
            to_rv=str(data.get("to_rv", "")),
            reason=str(data.get("reason", "")),
            changed=tuple(_identity(i) for i in data.get("changed") or ()),
        )
    if kind == "reconnect":
        return Reconnect(
            seq=seq,
            time=time,
            resource_version=str(data.get("resource_version", "")),
            reason=str(data.get("reason", "")),
            delay=float(data.get("delay", 0.0) or 0.0),
        )
    return None


@dataclass(frozen=True)
class Recording:
    """Timelines loaded from a file: the header, every entry in order, and a failure report.

    Attributes:
        header: The header line (``format``, ``version``, and ``source``/``state`` if written).
        entries: Every observation, gap and reconnect, in the order recorded.
        reports: Failure reports (``Report.to_json()`` dicts) written with the recording.

    >>> rec = Recorder(clock=None)
    >>> _ = rec.add_observation("ADDED", {"kind": "Pod", "metadata": {"name": "web", "uid": "u"}})
    >>> recording = Recording({"format": FORMAT, "version": 1}, tuple(rec.entries()))
    >>> recording.timeline("pod/web").identity.name, len(recording.reconnects())
    ('web', 0)
    """

    header: Mapping[str, Any]
    entries: tuple[Entry, ...]
    reports: tuple[Mapping[str, Any], ...] = field(default=())

    def identities(self) -> list[Identity]:
        """Every object identity in the recording, in order of first appearance."""
        seen: dict[str, Identity] = {}
        for entry in self.entries:
            if isinstance(entry, Observation):
                seen.setdefault(entry.identity.uid, entry.identity)
        return list(seen.values())

    def timelines(self) -> dict[Identity, Timeline]:
        """Each object's timeline (its observations and the gaps that concern it)."""
        by_uid: dict[str, list[Observation | Gap]] = {}
        idents: dict[str, Identity] = {}
        for entry in self.entries:
            if isinstance(entry, Observation):
                idents.setdefault(entry.identity.uid, entry.identity)
                by_uid.setdefault(entry.identity.uid, []).append(entry)
            elif isinstance(entry, Gap):
                for ident in entry.changed:
                    idents.setdefault(ident.uid, ident)
                    by_uid.setdefault(ident.uid, []).append(entry)
        return {idents[uid]: Timeline(idents[uid], tuple(items)) for uid, items in by_uid.items()}

    def reconnects(self) -> list[Reconnect]:
        """The watch's lossless reconnects."""
        return [e for e in self.entries if isinstance(e, Reconnect)]

    def timeline(self, name: str) -> Timeline:
        """The timeline of the newest object called `name` (``kind/name`` works too).

        Raises `LookupError` when the recording has no such object.
        """
        found = [t for i, t in self.timelines().items() if _named(i, name)]
        if not found:
            names = sorted({i.name for i in self.identities()})
            raise LookupError(f"the recording has no object {name!r}; it has {names}")
        return found[-1]


_UID_PREFIX = 8


def _named(identity: Identity, wanted: str) -> bool:
    """Match ``name``, ``kind/name``, ``namespace/name`` or a uid prefix (8+ characters)."""
    if "/" not in wanted:
        return identity.name == wanted or (
            len(wanted) >= _UID_PREFIX and identity.uid.startswith(wanted)
        )
    head, _, name = wanted.rpartition("/")
    if name != identity.name:
        return False
    head = head.lower()
    kind = identity.kind.lower()
    return head == identity.namespace.lower() or head.split(".")[0] in (kind, kind + "s")


def _key(entry: Observation | Gap) -> tuple[str, str]:
    if isinstance(entry, Gap):
        return ("GAP", f"{entry.from_rv}..{entry.to_rv}")
    return (entry.type + (" (relist)" if entry.synthetic else ""), entry.resource_version)


def header(**extra: Any) -> dict[str, Any]:
    """The header line, with `extra` keys that are not None."""
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        **{k: v for k, v in extra.items() if v is not None},
    }


class RecordingWriter:
    """Write a recording line by line, as it happens (the header first)."""

    def __init__(self, out: IO[str], **extra: Any) -> None:
        """Write the header (with `extra` keys) to `out`."""
        self.out = out
        self._line(header(**extra))

    def _line(self, data: Mapping[str, Any]) -> None:
        self.out.write(json.dumps(data, separators=(",", ":"), default=str) + "\n")

    def write(self, entries: Iterable[Entry]) -> None:
        """Append entries and flush, so a reader (or a crash) sees them."""
        for entry in entries:
            self._line(entry_to_json(entry))
        self.out.flush()

    def write_report(self, report: Any) -> None:
        """Append a failure report (a `kwait.Report` or its ``to_json()`` dict)."""
        data = report.to_json() if hasattr(report, "to_json") else dict(report)
        self._line({"entry": "report", "report": data})
        self.out.flush()


def _entries_of(source: Any) -> list[Entry]:
    """Collect entries from a tracker, recorder, timeline(s) or entries, merged in time order."""
    if isinstance(source, Recorder):
        return source.entries()
    recorder = getattr(source, "recorder", None)
    if isinstance(recorder, Recorder):
        return recorder.entries()
    if isinstance(source, Recording):
        return list(source.entries)
    if isinstance(source, Timeline):
        return list(source.entries)
    if isinstance(source, Mapping):
        source = source.values()
    seen: dict[int, Entry] = {}
    for item in source:
        for entry in [item] if isinstance(item, Observation | Gap | Reconnect) else item:
            seen.setdefault(id(entry), entry)
    return sorted(seen.values(), key=lambda e: (e.seq, e.time))


def merge_entries(recorders: Iterable[Recorder]) -> list[Entry]:
    """Merge several recorders' logs into one, in time order, numbered afresh from 0."""
    tagged: list[tuple[float, int, int, Entry]] = []
    for index, recorder in enumerate(recorders):
        tagged.extend((e.time, index, e.seq, e) for e in recorder.entries())
    tagged.sort(key=lambda item: item[:3])
    return [msgspec.structs.replace(entry, seq=n) for n, (*_, entry) in enumerate(tagged)]


def save_timelines(
    source: Any,
    file: str | Path | IO[str],
    /,
    *,
    report: Any = None,
    **header_keys: Any,
) -> int:
    """Write timelines to `file` in kwait's JSON Lines format; return the entries written.

    `source` is a `kwait.Tracker`, a `kwait.watch.Recorder`, a `kwait.Timeline`,
    timelines (a list, or the dict ``tracker.timelines()`` returns), or a
    loaded `Recording`. `report` (a failed expectation's `kwait.Report`) is
    stored too, so ``kwait show --svg`` highlights where it failed.
    `header_keys` go into the header line (e.g. ``state="waiting_reason()"``).

    >>> import io
    >>> rec = Recorder(clock=None)
    >>> _ = rec.add_observation("ADDED", {"kind": "Pod", "metadata": {"name": "web", "uid": "u"}})
    >>> out = io.StringIO()
    >>> save_timelines(rec, out, source="pods in namespace ci")
    1
    >>> out.getvalue().splitlines()[0]
    '{"format":"kwait-timelines","version":1,"source":"pods in namespace ci"}'
    """
    entries = _entries_of(source)
    if isinstance(file, str | Path):
        with Path(file).open("w", encoding="utf-8") as out:
            return save_timelines(entries, out, report=report, **header_keys)
    writer = RecordingWriter(file, **header_keys)
    writer.write(entries)
    if report is not None:
        writer.write_report(report)
    return len(entries)


def _lines(file: str | Path | IO[str]) -> Iterator[tuple[int, str]]:
    if isinstance(file, str | Path):
        with Path(file).open(encoding="utf-8") as handle:
            yield from enumerate(handle, 1)
    else:
        yield from enumerate(file, 1)


def load_timelines(file: str | Path | IO[str]) -> Recording:
    r"""Read a recording written by `save_timelines`, ``kwait record`` or ``kwait wait --record``.

    Raises `RecordingFormatError` (a `kwait.KwaitError`) for a file that is
    not a recording, a version newer than this kwait reads, or a broken line
    (naming its line number).

    >>> import io
    >>> text = ('{"format":"kwait-timelines","version":1}\n'
    ...         '{"entry":"observation","seq":0,"time":0.5,"type":"ADDED","resource_version":"3",'
    ...         '"identity":{"uid":"u","name":"web","namespace":"ci","kind":"Pod"},'
    ...         '"object":{"metadata":{"name":"web"}}}\n')
    >>> recording = load_timelines(io.StringIO(text))
    >>> [str(i) for i in recording.timelines()]
    ['pod/ci/web (uid u)']
    """
    head: dict[str, Any] | None = None
    entries: list[Entry] = []
    reports: list[Mapping[str, Any]] = []
    for number, line in _lines(file):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as error:
            raise RecordingFormatError(f"line {number} is not JSON: {error}") from None
        if not isinstance(data, dict):
            raise RecordingFormatError(f"line {number} is not a JSON object")
        if head is None:
            head = _check_header(data)
            continue
        if data.get("entry") == "report" and isinstance(data.get("report"), Mapping):
            reports.append(data["report"])
            continue
        try:
            entry = entry_from_json(data)
        except (KeyError, TypeError, ValueError) as error:
            raise RecordingFormatError(f"line {number}: cannot read the entry: {error}") from None
        if entry is not None:
            entries.append(entry)
    if head is None:
        raise RecordingFormatError("the file is empty: a recording starts with its header line")
    return Recording(head, tuple(entries), tuple(reports))


def _check_header(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("format") != FORMAT:
        raise RecordingFormatError(
            f"not a kwait recording: the first line should be a {FORMAT!r} header"
        )
    version = data.get("version")
    if not isinstance(version, int) or version < 1:
        raise RecordingFormatError(f"the header's version {version!r} is not a version")
    if version > FORMAT_VERSION:
        raise RecordingFormatError(
            f"the recording has format version {version}; this kwait reads up to "
            f"{FORMAT_VERSION}: upgrade kwait to read it"
        )
    return data
