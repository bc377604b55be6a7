"""The model, pure and without I/O: a scenario and a replication number in, records out.

``model`` runs the SimPy processes (arrivals, a case's walk through its flow; a stage visit in
``visits``) and leaves each rule to its home: ``plans`` (stages and flows with their names
resolved), ``pools`` (staff and offices: queueing and their statistics), ``materials`` (stock
under a reorder rule), ``clocks`` (the three clocks and the clock-stop rule), ``attributes`` (a
case's attributes), ``streams`` (random numbers keyed to the case), ``calendar`` (working time),
``records`` (the tables a run produces), ``arrivals`` (when applications come), ``seasons``
(their intensity through the year), ``rules`` (the rules under the dated measures in force),
``units`` (what a supply company owns in a run), ``batch`` (cases that never wait, a chunk at a
time) and ``backlog`` (a run warm-started from an event log's open cases)."""
