"""Resource pools and material stock, with the statistics the KPIs need.

A *pool* is a group of interchangeable servers (customer managers, plan engineers, inspectors,
construction crews, an approval office): a stage holds one unit while it works, and a case that
finds every unit busy queues first-come first-served. A pool with no capacity is unlimited: no
queue, no wait. Utilisation is time-weighted (busy unit-days over capacity x observed days),
observed from the end of the warm-up; waits are recorded for counted cases only.

A *material* is a stock item kept under an (s, Q) rule: when the inventory position (stock on hand
plus on order minus demand not yet served) falls to the reorder point, an order of the reorder
quantity is placed and arrives after a lead time. A share of the cases gets the item another way,
by cross-unit transfer or by procurement, each with its own delay, and does not touch the stock.
"""

from __future__ import annotations

import math

import simpy

from sim.engine.streams import CaseStreams
from sim.scenario.schema import Material, Pool


class ResourcePool:
    def __init__(self, env: simpy.Environment, name: str, spec: Pool, scale: float, observe_from: float):
        self.env = env
        self.name = name
        self.owner = spec.owner
        self.units = None if spec.capacity is None else max(1, round(spec.capacity * scale))
        self.capacity = None if self.units is None else self.units * spec.cases_per_unit
        self.resource = simpy.Resource(env, self.capacity) if self.capacity else None
        self.observe_from = observe_from
        self._busy = 0
        self._since = 0.0
        self._area = 0.0
        self.waits = 0
        self.wait_total = 0.0
        self.wait_max = 0.0

    def _account(self, now: float | None = None) -> None:
        if now is None:
            now = self.env.now
        start = self._since if self._since >= self.observe_from else self.observe_from
        if now > start:
            self._area += self._busy * (now - start)
        self._since = now

    def start(self, counted: bool, wait: float, now: float | None = None) -> None:
        """A unit starts serving a case that waited ``wait`` for it (the model requests the unit
        from ``resource`` itself, to keep one generator frame per stage visit). ``now``: the
        simulation time, if the caller has it at hand."""
        if now is None:
            now = self.env.now
        start = self._since if self._since >= self.observe_from else self.observe_from
        if now > start:  # busy slot-days so far (_account, inlined: this runs at every visit)
            self._area += self._busy * (now - start)
        self._since = now
        self._busy += 1
        if counted:
            self.waits += 1
            self.wait_total += wait
            if wait > self.wait_max:
                self.wait_max = wait

    def release(self, request, now: float | None = None) -> None:
        if now is None:
            now = self.env.now
        start = self._since if self._since >= self.observe_from else self.observe_from
        if now > start:
            self._area += self._busy * (now - start)
        self._since = now
        self._busy -= 1
        if request is not None:
            self.resource.release(request)

    def summary(self, end: float) -> dict:
        """Statistics over [end of warm-up, end]."""
        self._account()
        observed = max(end - self.observe_from, 0.0)
        busy = self._area / observed if observed > 0 else math.nan
        return {
            "pool": self.name,
            "owner": self.owner,
            "units": self.units if self.units is not None else math.inf,
            "capacity": self.capacity if self.capacity is not None else math.inf,
            "mean_busy": busy,
            "utilisation": busy / self.capacity if self.capacity else math.nan,
            "n_served": self.waits,
            "wait_wd_mean": self.wait_total / self.waits if self.waits else math.nan,
            "wait_wd_max": self.wait_max if self.waits else math.nan,
        }


class MaterialStock:
    def __init__(self, env: simpy.Environment, name: str, spec: Material, scale: float, streams: CaseStreams):
        self.env = env
        self.name = name
        self.spec = spec
        self.streams = streams
        self.reorder_point = round(spec.reorder_point * scale)
        self.reorder_quantity = max(1, round(spec.reorder_quantity * scale))
        initial = round(spec.initial * scale)
        self.stock = simpy.Container(env, init=initial)
        self.position = initial
        self.orders = 0
        self.stockouts = 0
        self.by_route = {"stock": 0, "transfer": 0, "procurement": 0}

    def supply(self, segment: str, case: int, quantity: int):
        """Generator: the case obtains ``quantity`` units by the route its draw picks."""
        spec = self.spec
        u = self.streams.uniform(segment, f"material:{self.name}", case)
        cut = 0.0
        for route_name in ("procurement", "transfer"):
            route = getattr(spec, route_name)
            if route is None:
                continue
            cut += route.probability
            if u < cut:
                self.by_route[route_name] += 1
                delay = self.streams.sample(segment, f"material:{self.name}:{route_name}", case, route.delay)
                yield self.env.timeout(delay)
                return
        self.by_route["stock"] += 1
        self.position -= quantity
        while self.position <= self.reorder_point:
            self.position += self.reorder_quantity
            self.env.process(self._replenish())
        if self.stock.level < quantity:
            self.stockouts += 1
        yield self.stock.get(quantity)

    def _replenish(self):
        self.orders += 1
        lead = self.streams.sample(
            "warehouse", f"lead_time:{self.name}", self.orders - 1, self.spec.lead_time
        )
        yield self.env.timeout(lead)
        yield self.stock.put(self.reorder_quantity)

    def summary(self) -> dict:
        return {
            "material": self.name,
            "orders": self.orders,
            "stockouts": self.stockouts,
            **{f"from_{k}": v for k, v in self.by_route.items()},
            "stock_at_end": self.stock.level,
        }
