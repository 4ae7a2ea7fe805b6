"""Publishing at the end of a run: tags only once every build succeeded (all or nothing),
and the run-scoped local names removed.

Backends with a local image store push each tag from it and the pushed digest must be
the one built; the others pushed each manifest by digest during the build, and a tag is
set through the registry API.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from buildorch import proc
from buildorch.backends.base import Backend, pushed_digest
from buildorch.backends.request import BuilderTls
from buildorch.oci import registry
from buildorch.planning.plan import PublishStep
from buildorch.run.events import Note, Published
from buildorch.run.platform_builds import join_platforms
from buildorch.run.platform_index import PlatformIndexError
from buildorch.run.reporting import Reporter
from buildorch.run.state import RunState

PUSH_TIMEOUT = 1800
REMOVE_TIMEOUT = 600


@dataclass
class Publication:
    published: list[str] = field(default_factory=list)
    error: str | None = None


def publish(state: RunState, backend: Backend, reporter: Reporter, done: Publication) -> None:
    """Every selected image's tags, the plan's publish steps in order; stops at the first
    failure. `done` fills in as tags are published, so an interruption still tells what
    was."""
    joined: set[str] = set()
    for step in state.plan.publish:
        try:
            if step.image in state.platform_pushes:  # built per platform: one index, all tags
                if step.image not in joined:
                    join_platforms(state, step.image)
                    joined.add(step.image)
            else:
                _publish_tag(state, backend, step)
        except (proc.CommandError, registry.RegistryError, proc.ToolNotFoundError,
                PlatformIndexError) as exc:
            done.error = f"publishing {step.tag} failed: {exc}"
            reporter.update(Note(done.error, step.image, "warning"))
            return
        done.published.append(step.tag)
        reporter.update(Published(step.image, step.tag))


def _publish_tag(state: RunState, backend: Backend, step: PublishStep) -> None:
    digest, tag = state.digests[step.image], step.tag
    if step.argv is None:
        registry.tag_digest(tag, digest)
        return
    request = state.image(step.image).request  # pushed from where it was built (a pool)
    argv = backend.push_argv(tag, request.builder, request.builder_tls) or step.argv
    output = proc.run(argv, cwd=state.root, secrets=state.log_scrub,
                      timeout=PUSH_TIMEOUT).output
    pushed = pushed_digest(output)
    if pushed is not None and pushed != digest:
        raise registry.RegistryError(
            f"{tag} was pushed as {pushed}, not the {digest} this run built")


def remove_run_tags(state: RunState, backend: Backend) -> None:
    """The run-scoped local names served only this run's dependents (best effort), with
    one command per builder: one each cost a builder process per image (issue 13)."""
    by_builder: dict[tuple[str | None, BuilderTls | None], list[str]] = {}
    for name in state.digests:
        if name in state.reused and name not in state.run_tagged:
            continue
        request = state.image(name).request
        by_builder.setdefault((request.builder, request.builder_tls), []).extend(
            state.run_tags(name))
    for builder, tls, tag in sorted(state.extra_tags, key=str):
        by_builder.setdefault((builder, tls), []).append(tag)
    commands = [argv for (builder, tls), tags in by_builder.items()
                if tags and (argv := backend.untag_argv(tags, builder, tls)) is not None]
    # each builder at once: where a name is an image's last, the daemon deletes the image,
    # which took seconds each on a store of hundreds of images (a pool's copies)
    with ThreadPoolExecutor(max_workers=max(len(commands), 1)) as workers:
        list(workers.map(lambda argv: proc.run(argv, check=False, timeout=REMOVE_TIMEOUT),
                         commands))
