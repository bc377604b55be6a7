"""The three clocks of a case: who is the case waiting for, at every instant?

Every instant of a case, from application to power-on, is charged to one party. In a sequence of
stages that is the owner of the stage in hand (its queueing included). Inside parallel branches the
clock-stop rule applies: an instant is charged to the customer if any customer branch is working,
else to the government if any government branch is, else to the utility. So

    elapsed = utility + government + customer          (for every case, exactly)
    full_process = utility + government                (the seed's 全过程: customer's works excluded)

and ``handling`` is the time during which at least one formal procedure stage (``handling: true``)
is active: Appendix 2's 合计. ``CaseClock`` keeps these in working days as the case moves, and
marks each change of party, so that the records can turn the same intervals into calendar days.
"""

from __future__ import annotations

from typing import NamedTuple

PARTIES = ("customer", "government", "utility")
"""The parties a case can wait for, in clock-stop priority, highest first. A party is named in the
model by its index in this tuple (resolved once per stage plan, see ``party_index``)."""
CUSTOMER, GOVERNMENT, UTILITY = range(len(PARTIES))

OPENS = 1
"""``CaseClock.charge``'s change when a stage of the party opens (the case enters it)."""
CLOSES = -1
"""``CaseClock.charge``'s change when a stage of the party closes (the case leaves it)."""


def party_index(owner: str) -> int:
    """The index of a stage owner (``customer``, ``government`` or ``utility``) in ``PARTIES``."""
    return PARTIES.index(owner)


class ClockReading(NamedTuple):
    """A case's clocks at one instant, in working days."""

    customer: float
    government: float
    utility: float
    handling: float


class CaseClock:
    """The clocks of one case: open stages per party, the party charged now, the totals so far."""

    __slots__ = (
        "handling",
        "handling_active",
        "handling_since",
        "marks",
        "open",
        "party",
        "since",
        "totals",
    )

    def __init__(self, start: float):
        self.open = [0, 0, 0]  # open stages per party, indexed as PARTIES
        self.party = UTILITY  # the application itself is the utility's to take up
        self.since = start
        self.totals = [0.0, 0.0, 0.0]
        self.handling_active = 0
        self.handling_since = start
        self.handling = 0.0
        self.marks = [(start, UTILITY)]  # (time, party charged from then on)

    def charge(self, now: float, party: int, change: int, handling: bool) -> None:
        """A stage of ``party`` opens (``change`` = ``OPENS``) or closes (``CLOSES``) at ``now``.

        The clock-stop rule: from now on the first party of ``PARTIES`` with an open stage is
        charged; while no stage is open (between two stages, no time) the charge stays as it was."""
        open_ = self.open
        open_[party] += change
        customer, government, utility = open_  # open stages per party, in PARTIES order
        new = CUSTOMER if customer else GOVERNMENT if government else UTILITY if utility else self.party
        if new != self.party:
            self.totals[self.party] += now - self.since
            self.since = now
            self.party = new
            self.marks.append((now, new))
        if handling:  # handling time runs while at least one procedure stage is open
            if self.handling_active == 0:
                self.handling_since = now
            self.handling_active += change
            if self.handling_active == 0:
                self.handling += now - self.handling_since

    def reading(self, now: float) -> ClockReading:
        """The clocks at ``now`` (for open cases too: nothing is closed)."""
        totals = list(self.totals)
        totals[self.party] += now - self.since
        handling = self.handling + (now - self.handling_since if self.handling_active else 0.0)
        return ClockReading(totals[CUSTOMER], totals[GOVERNMENT], totals[UTILITY], handling)

    def rebase(self, now: float) -> None:
        """Keep the totals at ``now`` and mark from ``now`` on: a warm-started case's clocks,
        replayed from its log up to the cut-off (``now``), go on from there
        (``sim.engine.backlog``); its calendar days before the cut-off are kept apart."""
        self.totals[self.party] += now - self.since
        self.since = now
        if self.handling_active:
            self.handling += now - self.handling_since
            self.handling_since = now
        self.marks = [(now, self.party)]
