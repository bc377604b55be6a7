"""Evidence: what a utility's own records say about a scenario's parameters.

An *event log* (the marketing system's application log, or the log ``run --events`` writes) is
read in the process-mining convention (``sim.evidence.log_reading``; which column is which, and
a guess for those a log lacks: ``sim.evidence.columns``), paired into *stage visits*
(``sim.evidence.visits``; what follows what in a flow: ``sim.evidence.flows``), and the parameters
a log can identify are estimated from them (``sim.evidence.estimates``): durations of stages
without staff and efforts of stages whose logged service is the effort alone, by maximum
likelihood among the distribution families the scenario format can express, with cases still
open censored (``sim.evidence.fitting``); the shares of cases taking conditional steps
(``sim.evidence.branches``) and rework probabilities with Wilson intervals; the arrival rate per
segment (``sim.evidence.arrivals``). The result is written as a scenario overlay
(``sim.evidence.overlay``); ``sim.evidence.round_trip`` simulates, fits and compares. The same
log's open cases at a cut-off date are the *backlog* a run can be warm-started from
(``sim.evidence.backlog``).
"""
