"""Material stock: the items a stage takes from a warehouse kept under a reorder rule.

A *material* is a stock item kept under an (s, Q) rule: when the inventory position (stock on hand
plus on order minus demand not yet served) falls to the reorder point, an order of the reorder
quantity is placed and arrives after a lead time. A share of the cases gets the item another way,
by cross-unit transfer or by procurement, each with its own delay, and does not touch the stock.
A case takes its materials on its first visit of the stage only; a rework uses what it has.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy

from sim.engine.streams import CaseStreams
from sim.scenario.resources import Material


class MaterialStock:
    """One stock item of a run: the stock, its orders, and the route each case took."""

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

    def adjust(self, spec: Material, scale: float) -> None:
        """From now on, the item follows ``spec`` (a dated measure): its routes, delays, lead
        time and reorder rule; the stock on hand and on order stay as they are."""
        self.spec = spec
        self.reorder_point = round(spec.reorder_point * scale)
        self.reorder_quantity = max(1, round(spec.reorder_quantity * scale))

    def supply(self, segment: str, case: int, quantity: int) -> Generator[simpy.Event, Any, None]:
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

    def _replenish(self) -> Generator[simpy.Event, Any, None]:
        self.orders += 1
        lead = self.streams.sample(
            "warehouse", f"lead_time:{self.name}", self.orders - 1, self.spec.lead_time
        )
        yield self.env.timeout(lead)
        yield self.stock.put(self.reorder_quantity)

    def summary(self) -> dict:
        """Orders, stock-outs, the routes taken and the stock left."""
        return {
            "material": self.name,
            "orders": self.orders,
            "stockouts": self.stockouts,
            **{f"from_{k}": v for k, v in self.by_route.items()},
            "stock_at_end": self.stock.level,
        }
