"""One Dockerfile analysed once per platform an image is built for, answering as one.

BuildKit runs the Dockerfile frontend once per target platform, so `FROM
binaries-$TARGETOS` can name a different stage on each. What a build of every platform
needs is the union: the stages any platform's build runs, the images any of them uses.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from buildorch.dockerfiles.stages import DockerfileInfo, Reference, Stage, StageEdge


@dataclass(frozen=True)
class PlatformAnalyses:
    platforms: tuple[str, ...]  # os/arch[/variant], as the analyses were made
    infos: tuple[DockerfileInfo, ...]  # one per platform, same order

    @property
    def path(self) -> str:
        return self.infos[0].path

    @property
    def stages(self) -> tuple[Stage, ...]:
        """The stages in file order (names and lines are the same on every platform)."""
        return self.infos[0].stages

    def stage_names(self) -> tuple[str, ...]:
        return self.infos[0].stage_names()

    def target_stage(self, target: str | None) -> Stage:
        return self.infos[0].target_stage(target)

    def needed_stages(self, target: str | None) -> tuple[Stage, ...]:
        """The stages any platform's build runs, in file order; a stage whose base differs
        between platforms shows each (`binaries-linux | binaries-windows`)."""
        if len(self.infos) == 1:
            return self.infos[0].needed_stages(target)
        bases: dict[int, dict[str, None]] = {}
        found: dict[int, Stage] = {}
        for info in self.infos:
            for stage in info.needed_stages(target):
                found.setdefault(stage.index, stage)
                bases.setdefault(stage.index, {})[stage.base] = None
        return tuple(dataclasses.replace(found[i], base=" | ".join(bases[i]))
                     for i in sorted(found))

    def external_references(self, target: str | None) -> tuple[Reference, ...]:
        if len(self.infos) == 1:
            return self.infos[0].external_references(target)
        refs = (ref for info in self.infos for ref in info.external_references(target))
        return tuple(dict.fromkeys(refs))

    def stage_edges(self) -> tuple[StageEdge, ...]:
        if len(self.infos) == 1:
            return self.infos[0].stage_edges()
        return tuple(dict.fromkeys(edge for info in self.infos for edge in info.stage_edges()))
