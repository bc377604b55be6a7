"""A case's attributes: drawn when it arrives, each from its own case-keyed stream.

A segment declares its attributes in order (``online``, ``region``, ``kva``, ...). Each is drawn by
inverse transform, through its distribution's ``ppf``, from the case's uniform number for the
purpose ``attr:<name>``; so a case has the same attributes in every scenario that declares the
same distributions, whatever else changes. Numbers (``kva``) are computed a block of cases at a
time by ``CaseStreams.sample``; flags and categories map the case's own number through their
``scalar_ppf``, the same quantile function one number at a time. A flag may carry a condition
on earlier attributes (route approval only for cases with external works): it is false unless
the condition holds, and its number is read either way. A constant takes no number.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sim.engine.streams import CaseStreams
from sim.scenario.conditions import holds
from sim.scenario.distributions import Bernoulli, Categorical, Constant, Distribution


class AttributeSampler(Protocol):
    """How one attribute of a segment's cases is drawn."""

    name: str

    def draw(self, streams: CaseStreams, segment: str, number: int, earlier: dict[str, Any]) -> Any:
        """The attribute of case ``number``, given the attributes drawn before it."""
        ...


class ConstantAttribute:
    """The same value for every case."""

    __slots__ = ("name", "value")

    def __init__(self, name: str, spec: Constant):
        self.name = name
        self.value = spec.value

    def draw(self, streams: CaseStreams, segment: str, number: int, earlier: dict[str, Any]) -> Any:
        return self.value


class NumberAttribute:
    """A number drawn from a numeric distribution (computed per block of cases)."""

    __slots__ = ("distribution", "name", "purpose")

    def __init__(self, name: str, spec: Distribution):
        self.name = name
        self.purpose = "attr:" + name
        self.distribution = spec

    def draw(self, streams: CaseStreams, segment: str, number: int, earlier: dict[str, Any]) -> float:
        return streams.sample(segment, self.purpose, number, self.distribution)


class ChoiceAttribute:
    """A flag or a category, from the case's own uniform number; false where ``when`` fails."""

    __slots__ = ("name", "ppf", "purpose", "when")

    def __init__(self, name: str, spec: Bernoulli | Categorical):
        self.name = name
        self.purpose = "attr:" + name
        self.ppf = spec.scalar_ppf()
        self.when = spec.when if isinstance(spec, Bernoulli) else None

    def draw(self, streams: CaseStreams, segment: str, number: int, earlier: dict[str, Any]) -> Any:
        value = self.ppf(streams.uniform(segment, self.purpose, number))
        if self.when is None:
            return value
        return holds(self.when, earlier) and value


def attribute_samplers(attributes: Mapping[str, Any]) -> tuple[AttributeSampler, ...]:
    """The samplers of a segment's declared attributes, in their declared order."""
    samplers: list[AttributeSampler] = []
    for name, spec in attributes.items():
        if isinstance(spec, Constant):
            samplers.append(ConstantAttribute(name, spec))
        elif isinstance(spec, (Bernoulli, Categorical)):
            samplers.append(ChoiceAttribute(name, spec))
        else:
            samplers.append(NumberAttribute(name, spec))
    return tuple(samplers)


def draw_attributes(
    samplers: tuple[AttributeSampler, ...],
    streams: CaseStreams,
    segment: str,
    number: int,
    attrs: dict[str, Any] | None = None,
    fixed: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The attributes of case ``number`` of ``segment`` (the key of its random numbers: its
    segment, or its arrival stream), in declared order, added to ``attrs`` if given (those its
    stream drew first); those in ``fixed`` (a company's ``company`` and ``region``) take its
    value and are not drawn (each attribute has its own numbers: the others keep theirs)."""
    attrs = {} if attrs is None else attrs
    if fixed:
        attrs.update(fixed)
    for sampler in samplers:
        if not fixed or sampler.name not in fixed:
            attrs[sampler.name] = sampler.draw(streams, segment, number, attrs)
    return attrs
