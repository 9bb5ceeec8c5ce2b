"""Client conformance: hold the official Python SDK to the contract, against a codat-mock.

Used by ``contracts/test_client_conformance.py``, which owns the scenarios (one per SDK
method: which calls, in which order, with which inputs). The parts live in their own modules:

* :mod:`contracts.client.sdk` reads the SDK's 22 methods: their request models, response
  types and the annotations inside them.
* :mod:`contracts.client.table` finds where the SDK and the contract part ways, read from
  both, as :class:`Disagreement` rows (and defines the :class:`Finding` a row may explain).
* :mod:`contracts.client.run` counts a run: which rows showed, which statuses each method met.
* :mod:`contracts.client.strategies` draws inputs from ``openapi.yaml`` with hypothesis.
* :mod:`contracts.client.driver` plays scenarios through the SDK and checks every call
  against the mock's request journal.

Every public name is re-exported here, so callers import from ``contracts.client``.
"""

from __future__ import annotations

from contracts.client.driver import (
    Control,
    Driver,
    MockOffer,
    Outcome,
    Scenario,
    ScenarioContext,
    SdkCall,
    Sent,
    Step,
    call,
    describe,
    failures,
)
from contracts.client.run import (
    SDK_VERSION,
    ConformanceRun,
    SummaryPlugin,
    TerminalWriter,
    write_table,
)
from contracts.client.sdk import (
    METHOD_BY_OPERATION,
    METHODS,
    SdkMethod,
    Shape,
    field_metadata,
    shape,
)
from contracts.client.strategies import (
    T0,
    UTC,
    SchemaStrategies,
    instants,
    render_instant,
    rendered_instants,
)
from contracts.client.table import (
    ANY_OPERATION,
    EXPLAINABLE,
    LIST_OPERATIONS,
    Disagreement,
    Finding,
    flatten,
    format_table,
    json_types,
    known_disagreements,
    parse_failure_location,
    probe_error_typing,
)

__all__ = [
    "ANY_OPERATION",
    "EXPLAINABLE",
    "LIST_OPERATIONS",
    "METHODS",
    "METHOD_BY_OPERATION",
    "SDK_VERSION",
    "T0",
    "UTC",
    "ConformanceRun",
    "Control",
    "Disagreement",
    "Driver",
    "Finding",
    "MockOffer",
    "Outcome",
    "Scenario",
    "ScenarioContext",
    "SchemaStrategies",
    "SdkCall",
    "SdkMethod",
    "Sent",
    "Shape",
    "Step",
    "SummaryPlugin",
    "TerminalWriter",
    "call",
    "describe",
    "failures",
    "field_metadata",
    "flatten",
    "format_table",
    "instants",
    "json_types",
    "known_disagreements",
    "parse_failure_location",
    "probe_error_typing",
    "render_instant",
    "rendered_instants",
    "shape",
    "write_table",
]
