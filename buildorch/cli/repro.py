"""`buildorch repro RECORD.json|RUN_ID [IMAGE...]`: rebuild what a recorded run built, and
say per image whether the digest is the recorded one.

    read the record -> load its pipeline with its variables, --set and cache choice
    -> select its images (or the IMAGEs given, and what they depend on) -> plan for its
    backend -> pin base images to the recorded digests, import its cache read-only,
    publish nothing -> warn where this tree differs -> build (a run of its own, recorded
    as a reproduction of the other) -> compare digests

Everything before the build may fail with exit 2 (a record that does not fit names its
file and field). Then: 0 when every build succeeded (digests that differ are reported;
with --strict they exit 1), 1 when a build failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from buildorch.cli.build import (
    check_before_run,
    check_machine,
    choose_backend,
    executor_for,
    invocation_of,
    plan_for,
    run_executor,
)
from buildorch.cli.loading import load, warn
from buildorch.errors import EXIT_BUILD_FAILED, EXIT_OK, ConfigError

if TYPE_CHECKING:
    from buildorch.backends.base import Backend
    from buildorch.cli.build import ChosenBackend
    from buildorch.pipeline.loaded import LoadedPipeline
    from buildorch.planning.graph import BuildGraph
    from buildorch.planning.plan import Plan
    from buildorch.run.recorded import RecordedRun
    from buildorch.run.repro.image_facts import ImageFacts
    from buildorch.run.repro.plan import Reproduction
    from buildorch.run.repro.replay import Replay
    from buildorch.run.repro.verdicts import Verdict
    from buildorch.run.repro.warnings import InputChanges


def command(args: argparse.Namespace) -> int:
    from buildorch.run.recorded import find_record, read_record
    from buildorch.run.repro.image_facts import current_digest
    from buildorch.run.repro.plan import reproduction, tagged_names
    from buildorch.run.repro.record import git_state
    from buildorch.run.repro.replay import check_names, check_record, replay
    from buildorch.run.repro.warnings import difference_warnings

    path = find_record(args.record)
    source = str(path)
    record = read_record(path, source)
    check_record(record, source)
    check_names(record, args.names, source)
    here = git_state(Path.cwd())
    check_folder(record, here.folder, source)
    again = replay(record)
    for note in again.notes:
        warn(note)
    replayed = build_arguments(args, record, again)
    check_sources(replayed, source)
    pipeline, graph = load(replayed)
    replayed.names = select(record, args.names, pipeline, graph, source)
    check_machine(replayed, pipeline, graph)
    choice = choose_backend(replayed, pipeline)
    replayed.push = again.push and choice.backend.local_store  # the same attestations
    plan = plan_for(replayed, pipeline, graph, choice)
    tags = tagged_names(t for i in pipeline.images.values() for t in i.spec.tags)
    repro = reproduction(plan, record, choice.backend, tags, functools.cache(current_digest))
    changes = input_changes(record, repro.plan)
    for line in (*repro.notes, *difference_warnings(record, repro.plan, here, changes)):
        warn(line)
    check_before_run(replayed, pipeline, repro.plan, choice)
    before = recorded_facts(record, repro.plan, choice.backend, choice.address)
    executor = executor_for(replayed, pipeline, repro.plan, choice,
                            invocation_of(replayed, reproduces=record.id))
    code = run_executor(executor)
    new = read_record(executor.state.folder / "record.json")
    verdicts = judge(record, new, plan, repro, changes, before, choice)
    out = sys.stderr if args.progress == "json" else sys.stdout
    print(report_head(record, verdicts), file=out)
    for verdict in verdicts:
        print(verdict.line(), file=out)
    if code == EXIT_OK and args.strict and any(v.matches is False for v in verdicts):
        return EXIT_BUILD_FAILED
    return code


def check_folder(record: RecordedRun, folder: str | None, source: str) -> None:
    """Paths in a record are relative to the folder the run ran in: run repro there."""
    recorded = record.git.folder if record.git else None
    if recorded is not None and folder is not None and recorded != folder:
        raise ConfigError(f"run {record.id} ran in {recorded!r} of its repository; run repro "
                          f"there (this is {folder!r})", file=source, field="git.folder")


def check_sources(replayed: argparse.Namespace, source: str) -> None:
    """The pipeline file and cache profile the record names exist here: an error names the
    record's field (loading would blame a `--cache` this command line did not give)."""
    from buildorch.cache.profiles import find_profile, profile_search_path

    file: Path = replayed.file
    if not file.is_file():
        raise ConfigError(f"no pipeline file {str(file)!r} here (moved since the run? check "
                          "out the run's commit)", file=source, field="file")
    name: str | None = replayed.cache
    search = profile_search_path(file.resolve().parent, replayed.cache_config)
    if name not in (None, "none") and find_profile(name, search) is None:
        folders = ", ".join(os.path.relpath(f) for f in search[:3])
        raise ConfigError(f"cache profile {name!r} not found (looked in {folders}; "
                          "--cache-config to name the folder)", file=source,
                          field="invocation.cache")


def build_arguments(args: argparse.Namespace, record: RecordedRun,
                    again: Replay) -> argparse.Namespace:
    """The arguments `build` would have had for the recorded run, plus repro's own: the
    cache imported read-only, nothing published, every image built (none skipped)."""
    cache_config = args.cache_config or (Path(again.cache_config) if again.cache_config
                                         else None)
    return argparse.Namespace(
        file=Path(record.file or "."),
        var=[f"{k}={v}" for k, v in again.variables] + list(args.var),
        set=[*again.sets, *args.set], cache_config=cache_config, cache=again.cache,
        names=[], changed_since=None, backend=args.backend or record.backend,
        builder=args.builder, push=False, cache_readonly=True, cache_strict=False,
        jobs=args.jobs, keep_going=args.keep_going, retries=args.retries, load=False,
        dry_run=False, skip_unchanged=False, progress=args.progress, verbose=args.verbose,
        chains=True)


def select(record: RecordedRun, names: list[str], pipeline: LoadedPipeline,
           graph: BuildGraph, source: str) -> list[str]:
    """The images to rebuild: each must be in the pipeline, and what they depend on in the
    record."""
    from buildorch.planning.graph import with_dependencies
    from buildorch.run.repro.replay import check_closure, selection

    chosen = selection(record, names)
    gone = [n for n in chosen if n not in pipeline.images]
    if gone:
        raise ConfigError(f"image {gone[0]!r} of run {record.id} is not in "
                          f"{pipeline.display} any more", file=source, field="selection")
    sub = with_dependencies(graph, chosen)
    check_closure(record, sub.nodes, {n: set(sub.predecessors(n)) for n in sub.nodes},
                  source)
    return list(chosen)


def input_changes(record: RecordedRun, plan: Plan) -> dict[str, InputChanges | None]:
    """Each image's inputs against the record's (or, for an older record, against the
    manifest this checkout kept for the recorded input digest)."""
    from buildorch.run.earlier_builds import read_manifest
    from buildorch.run.repro.warnings import image_changes

    found = {}
    for image in plan.images:
        recorded = record.images[image.name]
        kept = (read_manifest(Path.cwd(), recorded.input_digest)
                if recorded.manifest is None and recorded.input_digest else None)
        found[image.name] = image_changes(recorded, image, kept)
    return found


def recorded_facts(record: RecordedRun, plan: Plan, backend: Backend,
                   address: str | None) -> dict[str, ImageFacts]:
    """The recorded images this machine's image store holds, read before the build moves
    their tags (an image left untagged may be gone)."""
    from buildorch.run.repro.image_facts import stored_facts

    digests = [d for i in plan.images if (d := record.images[i.name].digest)]
    return stored_facts(backend, digests, address)


def judge(record: RecordedRun, new: RecordedRun, plan: Plan, repro: Reproduction,
          changes: dict[str, InputChanges | None], before: dict[str, ImageFacts],
          choice: ChosenBackend) -> list[Verdict]:
    """Each image's verdict; `plan` as planned (what it publishes decides provenance)."""
    from buildorch.run.repro.image_facts import registry_facts, stored_facts
    from buildorch.run.repro.plan import rewrites_timestamps
    from buildorch.run.repro.verdicts import (
        Evidence,
        attests_provenance,
        base_changes,
        differing_dependencies,
        needs_facts,
        verdict,
    )

    backend = choice.backend
    images = [i for i in plan.images if i.name in new.images]
    evidence = {i.name: Evidence(
        changes.get(i.name), differing_dependencies(i, record, new),
        provenance=attests_provenance(i.request, bool(i.publish), backend.provenance_default),
        base_changes=base_changes(record.images[i.name], new.images[i.name]),
        pinned_rewritten=bool(repro.pins.get(i.name)) and rewrites_timestamps(i.request),
        reproducible=i.request.reproducible) for i in images}
    wanted = [i for i in images if needs_facts(record.images[i.name], new.images[i.name],
                                               evidence[i.name])]
    after = stored_facts(backend, [new.images[i.name].digest or "" for i in wanted],
                         choice.address)
    for image in wanted:
        old, now = record.images[image.name], new.images[image.name]
        node = record.node(image.name)
        pushed = (*record.published, *(node.publish if node else ()))
        old_facts = before.get(old.digest or "")
        new_facts = after.get(now.digest or "")
        if old_facts is None and old.digest and pushed:
            old_facts = registry_facts(pushed, old.digest,
                                       new_facts.platform if new_facts else None)
        evidence[image.name] = dataclasses.replace(evidence[image.name],
                                                   recorded_facts=old_facts, new_facts=new_facts)
    return [verdict(record.images[i.name], new.images[i.name], evidence[i.name])
            for i in images]


def report_head(record: RecordedRun, verdicts: list[Verdict]) -> str:
    from buildorch.text import plural

    same = sum(1 for v in verdicts if v.matches is True)
    differ = sum(1 for v in verdicts if v.matches is False)
    return (f"reproduction of run {record.id}: {plural(len(verdicts), 'image')}, "
            f"{same} digest{'s' if same != 1 else ''} match, {differ} differ")
