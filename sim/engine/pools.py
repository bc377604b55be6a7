"""Resource pools: the staff and offices whose members work the stages, with their statistics.

A *pool* is a group of interchangeable members (customer managers, plan engineers, inspectors,
construction crews, approval officers). A member works one task at a time: a stage visit waits for
a member, holds it for the work (effort hours / the pool's hours per working day) and then lets it
go; the stage's lead time runs without it. A pool with no capacity is unlimited: no queue, no wait.
Which waiting case a free member takes is the pool's *dispatch* rule: ``fifo`` (first asked),
``deadline`` (earliest due date: the case's application time plus its segment's headline target)
or ``priority`` (important customers first); ties go to the case that asked first.

Utilisation is time-weighted: member-days held over members x observed days, observed from the end
of the warm-up, which is hours held over hours available. Waits are recorded for counted cases
only. An unlimited pool counts only the work of counted cases: its mean busy members are the
member-days they worked over the days they applied in (``window``), which by Little's law is the
mean number at work, with no end effects; the instants are summed exactly rounded, so a case
computed ahead of the clock (``sim.engine.model``) counts the same whenever it is told, and cases
outside the counted window need not be simulated at all.

A pool owns the whole life of a member's task, as a SimPy resource does: ``request`` asks for a
member on behalf of a case, ``release`` gives it back, and the pool keeps its statistics as it
grants and takes back members, so whoever uses a pool does no bookkeeping. An event is made only
for a case that has to queue: a free member is taken at once (a free member means no one waits),
and a member let go takes the first waiting case at once. A member counts as
busy, and its wait as over, from the instant its case gets it (when the grant is processed, as the
case resumes). Both take the current simulation time from the caller, who has it at hand: reading
the clock of the environment is a call, and these run at every stage visit.
"""

from __future__ import annotations

import math
from array import array

import numpy as np
import simpy
from simpy.resources.base import BaseResource
from simpy.resources.resource import PriorityRequest, Request, SortedQueue

from sim.scenario.resources import Pool


class _Ledger:
    """A pool's statistics: the time-weighted area of busy units and the waits of counted cases."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Pool,
        scale: float,
        observe_from: float,
        window: float | None = None,
    ):
        self.env = env
        self.window = window  # days of counted applications (None: observed to the end)
        self.name = name
        self.owner = spec.owner
        # members; None: unlimited
        self.units = None if spec.capacity is None else max(1, round(spec.capacity * scale))
        self.hours_per_day = float(spec.hours_per_day)
        self.dispatch = spec.dispatch
        self.observe_from = observe_from
        self._busy = 0
        self._since = 0.0
        self._area = 0.0
        self._member_area = 0.0  # member-days available, kept once the capacity has changed
        self._changed = False
        self.waits = 0
        self.wait_total = 0.0
        self.wait_max = 0.0
        self._taken = array("d")  # an unlimited pool: when members were taken ...
        self._let_go = array("d")  # ... and let go

    def _account(self, now: float, change: int, counted: bool = False, wait: float = 0.0) -> None:
        """The one place where the statistics change: ``change`` units become busy (+1, a grant to
        a case that waited ``wait``; its wait is recorded if ``counted``) or free (-1) at ``now``."""
        start = self._since if self._since >= self.observe_from else self.observe_from
        if now > start:  # busy unit-days since the last change, within the observed time
            self._area += self._busy * (now - start)
            if self._changed and self.units is not None:
                self._member_area += self.units * (now - start)
        self._since = now
        self._busy += change
        if counted:
            self.waits += 1
            self.wait_total += wait
            if wait > self.wait_max:
                self.wait_max = wait

    def summary(self, end: float) -> dict:
        """Statistics over [end of warm-up, end]."""
        self._account(self.env.now, 0)
        observed = max(end - self.observe_from, 0.0)
        if self.units is None:  # Little's law over the counted cases' work
            window = self.window if self.window is not None else observed
            busy = self._unlimited_area(end) / window if window > 0 else math.nan
        else:
            busy = self._area / observed if observed > 0 else math.nan
        if self._changed and self.units is not None:  # hours held over hours available
            utilisation = self._area / self._member_area if self._member_area > 0 else math.nan
        else:
            utilisation = busy / self.units if self.units else math.nan
        return {
            "pool": self.name,
            "owner": self.owner,
            "capacity": self.units if self.units is not None else math.inf,
            "hours_per_day": self.hours_per_day,
            "mean_busy": busy,
            "utilisation": utilisation,
            "n_served": self.waits,
            "wait_wd_mean": self.wait_total / self.waits if self.waits else math.nan,
            "wait_wd_max": self.wait_max if self.waits else math.nan,
        }

    def _unlimited_area(self, end: float) -> float:
        """Member-days counted cases held in [observed from, end]: members taken by then, each
        for the time from its taking (or the start of observation) to ``end``, less the same for
        those let go by then; exactly rounded, so the order they were told in does not matter."""
        start = self.observe_from
        taken, let_go = np.frombuffer(self._taken), np.frombuffer(self._let_go)
        taken, let_go = taken[taken <= end], let_go[let_go <= end]
        # the terms as floats would take 32 bytes each, beside the cases table being built
        return math.fsum(np.concatenate((end - np.maximum(taken, start), np.maximum(let_go, start) - end)))


class Claim(Request):
    """A case's request for a member of a ``ResourcePool``: an event that succeeds when it is
    granted (first come, first served)."""

    # slots keep these out of the instance dictionary, whose keys SimPy sets in one order
    __slots__ = ("asked", "counted", "usage_since")
    asked: float  # the time of the request
    counted: bool  # the case is counted: its wait is recorded
    usage_since: float  # the time of the grant (set by the resource)


class RankedClaim(PriorityRequest):
    """A claim on a pool that dispatches by rank (``deadline``, ``priority``): the waiting claim
    with the lowest ``priority`` is granted first, ties by the time asked, then by arrival."""

    __slots__ = ("asked", "counted", "usage_since")
    asked: float
    counted: bool
    usage_since: float


class _Members(simpy.Resource):
    """The members of a ``ResourcePool`` as a SimPy resource, which tells the pool of each grant.

    SimPy calls ``_trigger_get`` with a request when it processes the request's success, just
    before the waiting process resumes: that is when the pool counts the unit as busy. (Hooking
    there rather than adding a callback to every claim spares a call per grant.)"""

    def __init__(self, pool: ResourcePool, capacity: int):
        super().__init__(pool.env, capacity)
        self.pool = pool
        self.members = capacity
        self.at_once = 0  # members taken at once, without a claim (not in ``users``)

    def free(self) -> bool:
        """Whether a member is free (the capacity read as a plain attribute, not SimPy's property)."""
        return len(self.users) + self.at_once < self.members

    def _do_put(self, event: Claim) -> None:  # type: ignore[override]
        # SimPy's own rule (grant when a member is free), reading the capacity as a plain
        # attribute rather than through its property: this runs at every request and release
        if self.free():
            self.users.append(event)
            event.usage_since = self._env.now
            event.succeed()

    def _trigger_get(self, put_event: Claim | None) -> None:
        if put_event is not None:  # a claim granted at its usage_since, which is now
            now = put_event.usage_since
            self.pool._account(now, 1, put_event.counted, now - put_event.asked)
        if self.get_queue:  # SimPy's own loop over the releases waiting (none: nothing to do)
            _trigger_get(self, put_event)


_trigger_get = BaseResource._trigger_get  # SimPy's own, called as a plain function (no lookup)


class _RankedMembers(_Members):
    """Members that take the waiting claims in rank order: SimPy's sorted queue of a
    ``PriorityResource`` (a stable sort by ``(priority, time asked, not preempt)``)."""

    PutQueue = SortedQueue


class ResourcePool(_Ledger):
    """A pool of staff or offices; if it has a capacity, its members are those of a SimPy
    resource of its own, else every case gets a member at once and never waits."""

    def __init__(
        self,
        env: simpy.Environment,
        name: str,
        spec: Pool,
        scale: float,
        observe_from: float,
        window: float | None = None,
    ):
        super().__init__(env, name, spec, scale, observe_from, window)
        self._members: _Members | None = None
        if self.units is not None:
            ranked = self.dispatch != "fifo"
            self._members = (_RankedMembers if ranked else _Members)(self, self.units)
        self.ranked = self.units is not None and self.dispatch != "fifo"

    def request(self, counted: bool, now: float, rank: float = 0.0) -> Claim | RankedClaim | None:
        """Ask at ``now`` for a member on behalf of a case (``counted``: its wait is recorded;
        ``rank``: its place in a ranked pool's queue, lowest first). The case then waits for the
        claim; None: granted at once."""
        members = self._members
        if members is None:
            if counted:
                self._taken.append(now)
                self.waits += 1
            return None
        if members.free():  # a free member means no one waits
            members.at_once += 1
            self._account(now, 1, counted)
            return None
        # a ranked claim's priority is any number (SimPy compares them; its annotation says int)
        claim = RankedClaim(self._members, rank) if self.ranked else Claim(self._members)  # type: ignore[arg-type]
        claim.counted = counted
        claim.asked = now
        return claim

    def served(self, taken: np.ndarray, let_go: np.ndarray) -> None:
        """Counted cases took members of this unlimited pool at ``taken`` and let them go at
        ``let_go`` (cases computed a chunk at a time, ``sim.engine.batch``): what ``request``
        and ``release`` record for them one at a time (the order does not matter)."""
        assert self._members is None, "only an unlimited pool is told of members after the fact"
        self._taken.frombytes(np.asarray(taken, dtype=np.float64).tobytes())
        self._let_go.frombytes(np.asarray(let_go, dtype=np.float64).tobytes())
        self.waits += len(taken)

    def rank(self, important: bool, deadline: float) -> float:
        """A case's rank in this pool's queue under its dispatch rule (lowest first)."""
        if self.dispatch == "deadline":
            return deadline
        if self.dispatch == "priority":
            return 0.0 if important else 1.0
        return 0.0

    def adjust(self, spec: Pool, scale: float, now: float) -> None:
        """From ``now`` on, the pool has the members and hours per day of ``spec`` (a dated
        measure): new members take waiting cases at once; when members leave, those at work
        finish their task first. Utilisation then counts the hours available as they were."""
        units = None if spec.capacity is None else max(1, round(spec.capacity * scale))
        if units == self.units and float(spec.hours_per_day) == self.hours_per_day:
            return
        self._account(now, 0)  # the areas up to now, under the members so far
        if not self._changed:  # from now on the member-days available are kept as they change
            self._member_area = (self.units or 0) * max(now - self.observe_from, 0.0)
            self._changed = True
        self.hours_per_day = float(spec.hours_per_day)
        if units != self.units and self._members is not None and units is not None:
            self.units = units
            self._members.members = units
            self._grant_waiting()

    def release(self, claim: Claim | RankedClaim | None, now: float, counted: bool = True) -> None:
        """Give back at ``now`` the member of a claim (None for a member granted at once) that a
        case (``counted`` or not) held."""
        members = self._members
        if members is None:  # a member of an unlimited pool
            if counted:
                self._let_go.append(now)
            return
        self._account(now, -1)
        if claim is None:  # taken at once
            members.at_once -= 1
        else:
            members.users.remove(claim)
        self._grant_waiting()

    def _grant_waiting(self) -> None:
        """Free members take the first waiting cases (in the pool's dispatch order), now."""
        members = self._members
        while members is not None and members.put_queue and members.free():
            members._trigger_put(None)
