"""Random numbers keyed to the case, not to the order of events.

Every random input of a case comes from a stream named by (seed, replication, segment, purpose):
``arrival`` for its inter-arrival time, ``attr:kva`` for an attribute, ``duration:plan_reply`` for
a stage's duration, ``rework:completion_hv`` for a pass/fail draw, and so on. Case number ``i`` of a
segment always reads row ``i`` of its streams, whatever happened to the other cases. So a scenario
that removes a step or adds staff changes no other draw of any case: paired comparisons between
scenarios use common random numbers that stay synchronised.

The numbers are drawn in blocks of ``CHUNK`` cases (numpy arrays, fast), from a
``numpy.random.SeedSequence`` whose spawn key holds the replication, the hashed segment and
purpose, the draw number and the chunk number. Draw ``j`` of a case (its ``j``-th rework attempt,
say) reads its own block, so a loop never borrows another case's numbers. Values are produced by
inverse transform (``spec.ppf``) on whole blocks and cached per distribution.

A chunk's blocks are dropped once every case of the chunk that began has ended and the arrivals
have moved past it (``began``, ``ended``, ``passed``): memory then holds the blocks of the cases
in progress, not of the whole run. Dropping changes no number: a block asked for again would be
drawn again, identically.
"""

from __future__ import annotations

import zlib
from array import array
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.scenario.distributions import Distribution

CHUNK = 2048


def stable_key(name: str) -> int:
    """A hash of a name that is the same in every process and Python version."""
    return zlib.crc32(name.encode("utf-8"))


class CaseStreams:
    """The uniform numbers (and sampled values) of one replication, addressed by case."""

    def __init__(self, seed: int, replication: int, company: str | None = None) -> None:
        self.seed = int(seed)
        self.replication = int(replication)
        # a company's cases have streams of their own: its case 17 is not another company's
        self._company = () if company is None else (stable_key("company:" + company),)
        self._uniform_blocks: dict[tuple, array] = {}
        self._value_blocks: dict[tuple, array] = {}
        self._of_chunk: dict[tuple[str, int], list[tuple]] = {}  # (segment, chunk) -> its blocks
        self._open: dict[tuple[str, int], int] = {}  # cases of a chunk that began and not ended
        self._passed: set[tuple[str, int]] = set()  # chunks the arrivals have moved past

    def _block(self, segment: str, purpose: str, draw: int, chunk: int) -> array:
        key = (segment, purpose, draw, chunk)
        block = self._uniform_blocks.get(key)
        if block is None:
            block = self._uniform_blocks[key] = self._drawn(segment, purpose, draw, chunk)
            self._of_chunk.setdefault((segment, chunk), []).append(key)
        return block

    def _drawn(self, segment: str, purpose: str, draw: int, chunk: int) -> array:
        seq = np.random.SeedSequence(
            entropy=self.seed,
            spawn_key=(
                self.replication,
                *self._company,
                stable_key(segment),
                stable_key(purpose),
                draw,
                chunk,
            ),
        )
        # kept as array('d'): indexing it gives a Python float directly (fast), 8 bytes a number
        return array("d", np.random.default_rng(seq).random(CHUNK).tobytes())

    def block(
        self, segment: str, purpose: str, chunk: int, spec: Distribution | None = None, draw: int = 0
    ) -> np.ndarray:
        """A whole chunk's numbers at once: row ``i`` is what ``uniform`` (no ``spec``) or
        ``sample`` gives case ``chunk * CHUNK + i``, computed the same way, and not kept."""
        u = np.frombuffer(self._drawn(segment, purpose, draw, chunk), dtype=np.float64)
        return u if spec is None else np.asarray(spec.ppf(u), dtype=np.float64)

    def uniform(self, segment: str, purpose: str, case: int, draw: int = 0) -> float:
        """Draw number ``draw`` of case ``case`` for ``purpose``: a float in [0, 1)."""
        chunk, row = divmod(case, CHUNK)
        block = self._uniform_blocks.get((segment, purpose, draw, chunk))
        if block is None:
            block = self._block(segment, purpose, draw, chunk)
        return block[row]

    def sample(self, segment: str, purpose: str, case: int, spec: Distribution, draw: int = 0) -> float:
        """``spec.ppf`` of the same uniform number that ``uniform`` gives, computed per block."""
        chunk, row = divmod(case, CHUNK)
        key = (segment, purpose, draw, chunk, id(spec))
        values = self._value_blocks.get(key)
        if values is None:
            u = np.frombuffer(self._block(segment, purpose, draw, chunk), dtype=np.float64)
            values = array("d", np.asarray(spec.ppf(u), dtype=np.float64).tobytes())
            self._value_blocks[key] = values
            self._of_chunk[(segment, chunk)].append(key)
        return values[row]

    # ------------------------------------------------------------------ the blocks' lifetime
    def began(self, segment: str, case: int) -> None:
        """Case ``case`` of ``segment`` (its key) is in progress: its chunk's blocks stay."""
        key = (segment, case // CHUNK)
        self._open[key] = self._open.get(key, 0) + 1

    def ended(self, segment: str, case: int) -> None:
        """Case ``case`` of ``segment`` has ended: its chunk's blocks go if it was the last."""
        key = (segment, case // CHUNK)
        self._open[key] -= 1
        if self._open[key] == 0 and key in self._passed:
            self._drop(key)

    def passed(self, segment: str, case: int) -> None:
        """The arrivals of ``segment`` reached case ``case``: no case of an earlier chunk will
        begin; a chunk with none in progress goes now."""
        if case % CHUNK or case == 0:
            return
        key = (segment, case // CHUNK - 1)
        self._passed.add(key)
        if not self._open.get(key):
            self._drop(key)

    def clear(self) -> None:
        """Let every block go (the run is over: nothing more is drawn)."""
        self._uniform_blocks.clear()
        self._value_blocks.clear()
        self._of_chunk.clear()

    @property
    def blocks(self) -> int:
        """How many blocks of numbers are held now."""
        return len(self._uniform_blocks) + len(self._value_blocks)

    def _drop(self, key: tuple[str, int]) -> None:
        for block in self._of_chunk.pop(key, ()):
            self._uniform_blocks.pop(block, None)
            self._value_blocks.pop(block, None)
        self._open.pop(key, None)
