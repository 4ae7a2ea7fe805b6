"""Run a plan: builds in parallel through the backend, digests chained, tags at the end.

The scheduler decides what runs when; this module runs one build (with retries for
transient failures), records it, publishes tags once every build succeeded, and writes
the run record and the summary.
"""

from __future__ import annotations

import collections
import json
import os
import re
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from buildorch import proc
from buildorch.backends import Backend
from buildorch.errors import EXIT_BUILD_FAILED, EXIT_INTERRUPTED, EXIT_OK
from buildorch.oci import registry
from buildorch.pipeline.loader import LoadedPipeline
from buildorch.planning.plan import LOCAL_NAMESPACE, Plan, PlannedImage, plan_json
from buildorch.preflight.secrets import secret_values
from buildorch.proc import render_argv
from buildorch.run.cache_transfers import CacheTransfers
from buildorch.run.failures import Failure, analyse, cache_problems
from buildorch.run.record import ImageRun, State, image_entry, new_run_id, run_folder, write_record
from buildorch.run.reporting import Reporter
from buildorch.run.scheduler import schedule

KEEP_LINES = 400  # of each build's output, for failure analysis
_STEP_RE = re.compile(r"^#\d+ \[[^\]]*\d+/\d+\] ")
_CACHED_RE = re.compile(r"^#\d+ CACHED$")


@dataclass(frozen=True)
class RunOptions:
    jobs: int = 4
    keep_going: bool = False
    retries: int = 0
    retry_backoff: float = 2.0  # seconds before the first retry; doubles each time
    stop_deadline: float = 10.0  # seconds between TERM and KILL on Ctrl-C
    builder: str | None = None
    cache_strict: bool = False  # a cache that fails on import or export fails the build


def fill(argv: Iterable[str], digests: Mapping[str, str], run_id: str) -> list[str]:
    """Replace the plan's placeholders with this run's values."""
    out = []
    for arg in argv:
        if "{" in arg:
            for name, digest in digests.items():
                arg = arg.replace(f"{{digest:{name}}}", digest)
            arg = arg.replace("{run_id}", run_id)
        out.append(arg)
    return out


def read_digest(path: Path) -> str | None:
    """The built image's digest from a metadata file (JSON) or an image-id file (text)."""
    try:
        text = path.read_text().strip()
    except OSError:
        return None
    if text.startswith("{"):
        value = json.loads(text).get("containerimage.digest")
        return str(value) if value else None
    return text if text.startswith("sha256:") else None


class Executor:
    def __init__(self, pipeline: LoadedPipeline, plan: Plan, backend: Backend,
                 options: RunOptions, reporter: Reporter, root: Path | None = None) -> None:
        self.pipeline = pipeline
        self.plan = plan
        self.backend = backend
        self.options = options
        self.reporter = reporter
        self.run_id = new_run_id()
        self.folder = run_folder(self.run_id, root)
        self.root = root or Path.cwd()
        self.images = {i.name: i for i in plan.images}
        self.runs = {i.name: ImageRun(i.name) for i in plan.images}
        self.digests: dict[str, str] = {}
        self.secrets = secret_values(pipeline, os.environ)
        self._running: dict[str, proc.Running] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._interrupted = False
        self.published: list[str] = []
        self.publish_error: str | None = None
        self.cache = CacheTransfers(pipeline, self.root, reporter)

    # -- one build ------------------------------------------------------------------

    def _build(self, name: str) -> State:
        image, run = self.images[name], self.runs[name]
        argv = fill(image.argv, self.digests, self.run_id)
        run.argv = proc.redact_argv(argv, self.secrets)
        log = self.folder / f"{name}.log"
        run.log = os.path.relpath(log, self.root)
        run.started = time.time()
        try:
            mismatch = self._check_dependencies(image)
            if mismatch:
                return self._failed(image, run, Failure(message=mismatch))
            problem = self.cache.download(image, run)
            if problem and self.options.cache_strict:
                return self._failed(image, run, Failure(message=problem))
            state = self._attempts(image, run, argv, log)
            if state is State.SUCCEEDED:
                problem = self.cache.after_build(image, run, self.run_id)
                if problem and self.options.cache_strict:
                    return self._failed(image, run, Failure(message=problem))
            return state
        finally:
            run.ended = time.time()

    def run_tags(self, name: str) -> list[str]:
        tags = fill(self.images[name].request.tags, {}, self.run_id)
        return [t for t in tags if t.startswith(LOCAL_NAMESPACE + "/")]

    def _check_dependencies(self, image: PlannedImage) -> str | None:
        """Each dependency's run-scoped local name must still hold the digest it was built as."""
        if self.backend.inspect_argv is None:
            return None
        for dep in image.depends_on:
            for tag in self.run_tags(dep):
                argv = self.backend.inspect_argv(tag, image.request.builder)
                found = proc.run(argv, check=False, timeout=60).output.strip()
                if found != self.digests[dep]:
                    return (f"{tag} holds {found or 'nothing'}, not the {self.digests[dep]} "
                            f"that {dep} was built as in this run")
        return None

    def _attempts(self, image: PlannedImage, run: ImageRun, argv: list[str], log: Path) -> State:
        for attempt in range(1, self.options.retries + 2):
            if self._stop.is_set():
                return self._stopped_state()
            run.attempts = attempt
            self.reporter.started(image.name, attempt)
            code, lines, stopped = self._run_once(image.name, argv, log)
            if stopped:
                return self._stopped_state()
            if code == 0:
                return self._succeeded(image, run, lines)
            failure = analyse(lines, code)
            if failure.transient and attempt <= self.options.retries:
                delay = self.options.retry_backoff * 2 ** (attempt - 1)
                self.reporter.message(f"==> {image.name}: transient failure ({failure.message});"
                                      f" retrying in {delay:.0f}s")
                if self._stop.wait(delay):
                    return self._stopped_state()
                continue
            return self._failed(image, run, failure)
        raise AssertionError("unreachable")

    def _run_once(self, name: str, argv: list[str], log: Path) -> tuple[int, list[str], bool]:
        kept: collections.deque[str] = collections.deque(maxlen=KEEP_LINES)
        with self._lock:
            if self._stop.is_set():
                return 1, [], True
            running = proc.start(argv, cwd=self.root)
            self._running[name] = running
        try:
            with log.open("a", encoding="utf-8") as out:
                out.write(f"$ {render_argv(self.runs[name].argv)}\n")
                for raw in running.lines():
                    line = proc.redact(raw, self.secrets)
                    out.write(line)
                    kept.append(line)
                    self.reporter.update(name, line)
            code = running.wait()
        finally:
            with self._lock:
                self._running.pop(name, None)
        return code, list(kept), running.stopped

    def _succeeded(self, image: PlannedImage, run: ImageRun, lines: list[str]) -> State:
        metadata = image.request.metadata_file
        digest = read_digest(self.root / fill([metadata], {}, self.run_id)[0]) if metadata else None
        if digest is None:
            failure = Failure(message="the build succeeded but reported no image digest",
                              tail=tuple(lines[-5:]))
            return self._failed(image, run, failure)
        self.digests[image.name] = run.digest = digest
        run.cache["log_problems"] = [vars(p) for p in cache_problems(lines)]
        run.total_steps = sum(1 for line in lines if _STEP_RE.match(line))
        run.cached_steps = sum(1 for line in lines if _CACHED_RE.match(line))
        took = time.time() - (run.started or time.time())
        self.reporter.finished(image.name, "succeeded", f"in {took:.1f}s {digest[:19]}")
        return State.SUCCEEDED

    def _failed(self, image: PlannedImage, run: ImageRun, failure: Failure) -> State:
        where = failure.where().replace(f"{failure.dockerfile}:",
                                        f"{image.request.dockerfile}:") if failure.line else ""
        run.reason = failure.message
        run.failure = {"message": failure.message, "dockerfile": image.request.dockerfile,
                       "line": failure.line, "stage": failure.stage, "step": failure.step,
                       "tail": list(failure.tail), "transient": failure.transient}
        self.reporter.finished(image.name, "failed", f"({where}) {failure.message}" if where
                               else failure.message)
        return State.FAILED

    def _stopped_state(self) -> State:
        return State.INTERRUPTED if self._interrupted else State.CANCELLED

    def stop_all(self, interrupted: bool) -> None:
        """Stop every running build (each in its own process group), in parallel."""
        self._interrupted = self._interrupted or interrupted
        self._stop.set()
        with self._lock:
            running = list(self._running.values())
        threads = [threading.Thread(target=r.stop, args=(self.options.stop_deadline,))
                   for r in running]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    # -- the run ----------------------------------------------------------------------

    def run(self) -> int:
        self.folder.mkdir(parents=True, exist_ok=True)
        started = time.time()
        self.reporter.message(f"run {self.run_id}: {len(self.images)} images, backend "
                              f"{self.backend.name}, up to {self.options.jobs} at once")
        outcome = schedule(
            self._graph(), {i.name: i.remaining for i in self.plan.images}, self.options.jobs,
            self._build, self._skipped, self.stop_all, keep_going=self.options.keep_going,
        )
        for name, state in outcome.states.items():
            self.runs[name].state = state
            self.runs[name].reason = self.runs[name].reason or outcome.reasons.get(name)
        succeeded = all(s is State.SUCCEEDED for s in outcome.states.values())
        try:
            if succeeded and not outcome.interrupted:
                self._publish()
            self._remove_run_tags()
        except KeyboardInterrupt:  # Ctrl-C while publishing: say what was published
            outcome.interrupted = True
            self.publish_error = self.publish_error or (
                f"interrupted while publishing; published so far: {self.published or 'nothing'}")
        result = "interrupted" if outcome.interrupted else (
            "succeeded" if succeeded and not self.publish_error else "failed")
        write_record(self.folder, self._record(started, result))
        self.reporter.message(self.summary(result))
        if outcome.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if result == "succeeded" else EXIT_BUILD_FAILED

    def _graph(self) -> Any:
        import networkx as nx

        graph = nx.DiGraph()
        graph.add_nodes_from(self.images)
        graph.add_edges_from((d, i.name) for i in self.plan.images for d in i.depends_on)
        return graph

    def _skipped(self, name: str, reason: str) -> None:
        self.reporter.finished(name, "skipped", f"({reason})")

    def _remove_run_tags(self) -> None:
        """The run-scoped local names served only this run's dependents (best effort)."""
        if self.backend.untag_argv is None:
            return
        for name in self.digests:
            for tag in self.run_tags(name):
                argv = self.backend.untag_argv(tag, self.images[name].request.builder)
                proc.run(argv, check=False, timeout=60)

    def _publish(self) -> None:
        """Tags, only now that every build succeeded: all or nothing."""
        for image in self.plan.images:
            for tag in image.publish:
                try:
                    self._publish_tag(image.name, tag)
                except (proc.CommandError, registry.RegistryError, proc.ToolNotFoundError) as exc:
                    self.publish_error = f"publishing {tag} failed: {exc}"
                    self.reporter.message(f"==> {image.name}: {self.publish_error}")
                    return
                self.published.append(tag)
                self.reporter.message(f"==> {image.name}: published {tag}")

    def _publish_tag(self, name: str, tag: str) -> None:
        digest = self.digests[name]
        if self.backend.push_argv is None:
            registry.tag_digest(tag, digest)
            return
        argv = self.backend.push_argv(tag, self.images[name].request.builder)
        output = proc.run(argv, cwd=self.root, secrets=self.secrets, timeout=1800).output
        pushed = re.findall(r"digest: (sha256:[0-9a-f]{64})", output)
        if pushed and pushed[-1] != digest:
            raise registry.RegistryError(
                f"{tag} was pushed as {pushed[-1]}, not the {digest} this run built")

    # -- reporting --------------------------------------------------------------------

    def _record(self, started: float, result: str) -> dict[str, Any]:
        return {
            "id": self.run_id, "pipeline": self.plan.pipeline, "file": self.plan.file,
            "backend": self.backend.name, "builder": self.options.builder,
            "started": started, "ended": time.time(), "outcome": result,
            "options": {"jobs": self.options.jobs, "keep_going": self.options.keep_going,
                        "retries": self.options.retries},
            "selection": list(self.plan.selection),
            "images": {name: image_entry(run) for name, run in self.runs.items()},
            "published": self.published, "publish_error": self.publish_error,
            "plan": plan_json(self.plan),
        }

    def summary(self, result: str) -> str:
        rows = [("IMAGE", "STATE", "DURATION", "DIGEST")]
        for image in self.plan.images:
            run = self.runs[image.name]
            duration = f"{run.duration:.1f}s" if run.duration is not None else "-"
            rows.append((image.name, run.state.value, duration, run.digest or "-"))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        lines = ["", *("  ".join(r[i].ljust(widths[i]) for i in range(3)) + "  " + r[3]
                       for r in rows)]
        lines += self._failure_lines()
        if self.publish_error:
            lines.append(self.publish_error)
        wanted = any(i.publish for i in self.plan.images)
        if wanted and result != "succeeded" and not self.published:
            lines.append("nothing was published: tags are pushed only when every build succeeds")
        lines.append(f"run {self.run_id} {result}: record in "
                     f"{os.path.relpath(self.folder / 'record.json', self.root)}")
        return "\n".join(lines)

    def _failure_lines(self) -> list[str]:
        lines: list[str] = []
        for image in self.plan.images:
            failure = self.runs[image.name].failure
            if not failure:
                continue
            place = f"{failure['dockerfile']}:{failure['line']}" if failure["line"] else ""
            stage = f"stage {failure['stage']}" if failure["stage"] else ""
            where = ", ".join(p for p in (place, stage) if p)
            lines.append(f"\n{image.name} failed{f' at {where}' if where else ''}: "
                         f"{failure['message']}")
            lines += [f"  | {t}" for t in failure["tail"]]
        return lines
